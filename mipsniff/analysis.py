"""The Python API for notebooks: `mipsniff.load(path)` -> `Analysis`, pandas tables of a handover report.

Builds on the report of issue 4 (RFC 6275 §11.5 handover timelines, §9.5 bindings) and the dissectors
contract. Tables:

- `packets`: one row per packet (frame number, epoch seconds `ts` and UTC datetime `time`, outer and
  inner addresses as strings, categorical `kind` / `type`, echo / UDP / RTP / mobility fields);
- `handovers`, `bindings`, `mobile_nodes`, `weirds`: the report's records, nested `latency_ms`, `lost`
  and `rtt_ms` flattened into `latency_ms.total`, ... columns;
- `echoes`: one row per ICMPv6 echo request (RFC 4443 §4.1/4.2): sent, answered, unanswered, or unsent
  (a gap in the request sequence: ping's `sendmsg` failed while the MN had no usable address);
- `stream()`: UDP/RTP packets (RFC 3550 sequence numbers) with inter-arrival gaps;
- `flows`: per echo identifier / UDP 5-tuple: packet counts, losses, RTT and jitter.

Everything is derived from the report dict and the packet rows, so `read_report(a.to_json())` rebuilds
the same object without the capture.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import cached_property, lru_cache
from ipaddress import IPv6Address
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mipsniff.errors import UserError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Analysis", "HandoverView", "PacketRow", "load", "read_report"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketRow:
    """One row of `Analysis.packets`; the DataFrame columns are these fields (STYLE §6).

    `src`/`dst` are the outermost IP header, `inner_src`/`inner_dst` the innermost one after following
    IPv6-in-IPv6 tunnels (RFC 2473), so a tunnelled echo request still shows the home address; they are
    the transport endpoints, i.e. with the Home Address option and the type 2 routing header applied
    (route-optimised traffic, RFC 6275 §9.3.1/§9.3.2: CoA source + HAO = the home address).
    `home_address` is the Home Address option (RFC 6275 §6.3), `routing_home_address` the type 2
    routing header's address (RFC 6275 §6.4).
    """

    frame: int
    ts: float
    ts_ns: int | None = None  # exact capture timestamp; `time` is built from it
    capture: str = ""
    interface: int = 0  # pcapng interface index (0 for pcap)
    length: int = 0
    kind: str = "other"  # nd, mobility, echo, icmpv6, udp, rtp, tcp, l2, other
    type: str = ""  # RS, RA, NS, DAD NS, NA, BU, BA, BE, echo request, echo reply, udp, rtp, ...
    src: str | None = None
    dst: str | None = None
    inner_src: str | None = None
    inner_dst: str | None = None
    tunnel_depth: int = 0
    home_address: str | None = None
    routing_home_address: str | None = None
    echo_id: int | None = None
    echo_seq: int | None = None
    sport: int | None = None
    dport: int | None = None
    rtp_seq: int | None = None
    rtp_ssrc: int | None = None
    mh_seq: int | None = None
    lifetime_s: int | None = None
    ba_status: int | None = None
    nd_target: str | None = None
    weirds: str = ""
    flags: str | None = None  # BU/BA/RA/NA flag letters in wire order, e.g. "AH"
    status_name: str | None = None  # BA/BE status name, e.g. "ACCEPTED"
    care_of_address: str | None = None  # BU: source or Alternate CoA option; BA: destination
    checksum_ok: bool | None = None  # MH / ICMPv6 checksum verdict (None: not checked)
    info: str = ""  # the protocol part of `mipsniff show`'s line (tcpdump style)


_INT_COLUMNS = ("echo_id", "echo_seq", "sport", "dport", "rtp_seq", "rtp_ssrc", "mh_seq", "lifetime_s",
                "ba_status")
_STR_COLUMNS = ("capture", "src", "dst", "inner_src", "inner_dst", "home_address", "routing_home_address",
                "nd_target", "weirds", "flags", "status_name", "care_of_address", "info")
_PACKET_COLUMNS = tuple(f.name for f in fields(PacketRow))


def packets_frame(rows: Iterable[Mapping[str, Any] | PacketRow]) -> pd.DataFrame:
    """Typed packet table from `PacketRow`s or dicts with the same keys (missing keys become null)."""
    defaults = {f.name: f.default for f in fields(PacketRow) if f.name not in ("frame", "ts")}
    items = list(rows)
    cols: dict[str, list[Any]] = {}
    for name in _PACKET_COLUMNS:
        d = defaults.get(name)
        cols[name] = [getattr(r, name) if isinstance(r, PacketRow) else r.get(name, d) for r in items]
    df = pd.DataFrame(cols)
    df["frame"] = _int64(df["frame"])
    df["ts"] = pd.to_numeric(df["ts"], errors="coerce").astype("float64")
    # Rows from JSON carry only the float: rebuild the integer from it at microsecond precision (the
    # precision of the report's times), so `time` shows 12:00:09.800000, not float noise.
    us = (df["ts"].fillna(0.0) * 1e6).round().astype("int64")  # integer arithmetic from here on
    ns = _int64(df["ts_ns"])
    df["ts_ns"] = ns.fillna(us * 1000).astype("int64")
    df.insert(2, "time", pd.to_datetime(df["ts_ns"], unit="ns", utc=True))
    df["length"] = pd.to_numeric(df["length"], errors="coerce").fillna(0).astype("int64")
    df["tunnel_depth"] = pd.to_numeric(df["tunnel_depth"], errors="coerce").fillna(0).astype("int64")
    df["interface"] = pd.to_numeric(df["interface"], errors="coerce").fillna(0).astype("int64")
    for name in _INT_COLUMNS:
        df[name] = _int64(df[name])
    for name in _STR_COLUMNS:
        df[name] = df[name].astype("string")
    df["checksum_ok"] = df["checksum_ok"].astype("boolean")
    df["kind"] = df["kind"].fillna("other").astype("category")
    df["type"] = df["type"].fillna("").astype("category")
    return df


def _rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame's rows as plain dicts with string keys."""
    return [{str(k): v for k, v in rec.items()} for rec in df.to_dict("records")]


def _int64(values: Any) -> pd.Series:
    """A nullable integer column (pandas `Int64`) from any numeric-ish values, exact for big integers
    (nanosecond timestamps do not survive a trip through float64)."""
    s = pd.Series(values)
    if s.dtype.kind in "iu":
        return s.astype("Int64")
    if s.dtype == object:
        return pd.Series([_to_int(v) for v in s], index=s.index, dtype="Int64")
    return pd.Series(pd.to_numeric(s, errors="coerce"), dtype="Float64").astype("Int64")


def _to_int(v: Any) -> int | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


# --- from dissected packets to rows ------------------------------------------------------------------

_ICMP_TYPES = {
    "RouterSolicitation": ("nd", "RS"),
    "RouterAdvertisement": ("nd", "RA"),
    "NeighborSolicitation": ("nd", "NS"),
    "NeighborAdvertisement": ("nd", "NA"),
    "Redirect": ("nd", "Redirect"),
    "EchoRequest": ("echo", "echo request"),
    "EchoReply": ("echo", "echo reply"),
}


def _addr(value: Any) -> str | None:
    return None if value is None else _addr_text(value)


@lru_cache(maxsize=65536)
def _addr_text(value: Any) -> str:
    # ipaddress formats IPv6 slowly and a capture repeats a few addresses many times.
    return str(value)


def _show_fields(frame: int, ts_ns: int, packet: Any) -> dict[str, Any]:
    """The `mipsniff show --json` fields (mipsniff.report.show) that the typed columns do not already
    hold, taken from the innermost record of a tunnel: `info` (show's text), `flags`, `status_name`,
    `care_of_address`, `checksum_ok`. Empty if the renderer cannot describe the packet."""
    from mipsniff.report.show import describe, packet_record

    try:
        rec = packet_record(frame, ts_ns, packet)
        info = describe(rec)
    except Exception:  # a renderer bug must not lose the row; the table still has every typed column
        return {}
    while isinstance(rec.get("inner"), dict):
        rec = rec["inner"]
    flags = rec.get("flags")
    return {"info": info, "flags": flags if isinstance(flags, str) else None,
            "status_name": rec.get("status_name"), "care_of_address": rec.get("care_of_address"),
            "checksum_ok": rec.get("checksum_ok")}


def packet_row(frame: int, ts_ns: int, packet: Any, *, length: int = 0, capture: str = "",
               interface: int = 0) -> PacketRow:
    """Flatten one `dissectors.Packet` (see dissectors/README.md) into a `PacketRow`."""
    outer = getattr(packet, "ip", None)
    inner = getattr(packet, "innermost", None) or outer
    upper: Any = getattr(packet, "upper", None)
    values: dict[str, Any] = {}
    kind, typ = "other", ""
    name = type(upper).__name__ if upper is not None else ""
    mobility = getattr(packet, "mobility", None)
    if mobility is not None:
        kind = "mobility"
        mh_type = getattr(mobility, "mh_type", None)
        typ = getattr(mh_type, "name", None) or f"MH {mh_type}"
        values["mh_seq"] = getattr(mobility, "sequence", None)
        values["lifetime_s"] = getattr(mobility, "lifetime_s", None)
        if typ == "BA":
            values["ba_status"] = int(mobility.status)
    elif name in _ICMP_TYPES:
        kind, typ = _ICMP_TYPES[name]
        if kind == "echo":
            values["echo_id"] = upper.identifier
            values["echo_seq"] = upper.sequence
        if name in ("NeighborSolicitation", "NeighborAdvertisement", "Redirect"):
            values["nd_target"] = _addr(getattr(upper, "target", None))
        # RFC 4862 §5.4.2: a DAD probe is an NS from the unspecified address.
        if name == "NeighborSolicitation" and getattr(inner, "is_dad", False):
            typ = "DAD NS"
    elif name == "UDP":
        kind, typ = "udp", "udp"
        values["sport"], values["dport"] = upper.src_port, upper.dst_port
        rtp = getattr(upper, "rtp", None)
        if rtp is not None:
            kind, typ = "rtp", "rtp"
            values["rtp_seq"], values["rtp_ssrc"] = rtp.sequence, rtp.ssrc
    elif name == "TCP":
        kind, typ = "tcp", "tcp"
        values["sport"], values["dport"] = upper.src_port, upper.dst_port
    elif name.startswith(("ICMPv6", "Destination", "PacketTooBig", "TimeExceeded", "ParameterProblem",
                          "HomeAgent", "MobilePrefix", "RtSolPr", "PrRtAdv")):
        kind, typ = "icmpv6", name
    elif getattr(packet, "l2_event", None) is not None:
        kind, typ = "l2", str(packet.l2_event.subtype)
    elif upper is not None:
        typ = name
    return PacketRow(
        # `ts` rounded to the microsecond exactly as the report writes its times, so they compare with ==.
        frame=frame, ts=round(ts_ns / 1_000_000_000, 6), ts_ns=ts_ns, capture=capture, interface=interface,
        length=length, kind=kind, type=typ,
        src=_addr(getattr(outer, "src", None)), dst=_addr(getattr(outer, "dst", None)),
        inner_src=_addr(getattr(inner, "effective_src", None) or getattr(inner, "src", None)),
        inner_dst=_addr(getattr(inner, "effective_dst", None) or getattr(inner, "dst", None)),
        tunnel_depth=int(getattr(packet, "tunnel_depth", 0) or 0),
        home_address=_addr(getattr(inner, "home_address", None) or getattr(outer, "home_address", None)),
        routing_home_address=_addr(getattr(inner, "routing_home_address", None)
                                   or getattr(outer, "routing_home_address", None)),
        weirds=",".join(w.name for w in getattr(packet, "weirds", ())),
        **values,
        **_show_fields(frame, ts_ns, packet),
    )


# --- derived tables -------------------------------------------------------------------------------


def _unwrap16(seq: np.ndarray) -> np.ndarray:
    """Unwrap a 16-bit sequence (echo sequence, RTP sequence; RFC 3550 §A.1) into a monotone count."""
    if not len(seq):
        return seq.astype("int64")
    d = np.diff(seq.astype("int64"))
    d = np.where(d < -32768, d + 65536, np.where(d > 32768, d - 65536, d))
    return np.concatenate([[int(seq[0])], int(seq[0]) + np.cumsum(d)])


def echoes_frame(packets: pd.DataFrame) -> pd.DataFrame:
    """One row per echo request: `flow`, `identifier`, `seq`, `t_sent`, `t_reply`, `rtt_ms`, `fate`.

    The request is matched with the first reply carrying the same identifier and sequence between the
    same two (inner) addresses (RFC 4443 §4.2). Sequence numbers missing between the first and the last
    request of a flow are the requests never sent (fate `unsent`, time interpolated from the neighbours).
    """
    cols = ["flow", "requester", "responder", "identifier", "seq", "frame", "t_sent", "t_reply", "rtt_ms",
            "fate"]
    if not len(packets):
        return _typed_echoes(pd.DataFrame(columns=cols))
    typ = packets["type"].astype(str)
    req = packets[typ == "echo request"]
    rep = packets[typ == "echo reply"]
    out = []
    replies: dict[tuple[str, str, int, int], list[float]] = {}
    for r in _rows(rep):
        replies.setdefault((str(r["inner_dst"]), str(r["inner_src"]), int(r["echo_id"]), int(r["echo_seq"])),
                           []).append(float(r["ts"]))
    group: Any
    for group, g in req.groupby(["inner_src", "inner_dst", "echo_id"], sort=True,
                                                         observed=True):
        requester, responder, ident = group
        g = g.sort_values("ts").drop_duplicates("echo_seq", keep="first")
        flow = f"echo {requester}>{responder} id={ident}"
        seqs = _unwrap16(g["echo_seq"].to_numpy(dtype="int64"))
        ts = g["ts"].to_numpy(dtype=float)
        order = np.argsort(seqs, kind="stable")
        seqs, ts, frames = seqs[order], ts[order], g["frame"].to_numpy()[order]
        for s, t, fr in zip(seqs, ts, frames, strict=True):
            cand = [x for x in replies.get((str(requester), str(responder), int(ident), int(s) % 65536), [])
                    if x >= t]
            t_rep = min(cand) if cand else math.nan
            out.append((flow, requester, responder, int(ident), int(s), fr, t, t_rep,
                        (t_rep - t) * 1e3 if cand else math.nan, "answered" if cand else "unanswered"))
        if len(seqs) > 1:
            missing = np.setdiff1d(np.arange(seqs[0], seqs[-1] + 1), seqs)
            t_interp = np.interp(missing, seqs, ts) if len(missing) else []
            for s, t in zip(missing, t_interp, strict=True):
                out.append((flow, requester, responder, int(ident), int(s), pd.NA, float(t), math.nan,
                            math.nan, "unsent"))
    df = pd.DataFrame(out, columns=cols).sort_values(["flow", "seq"], kind="stable").reset_index(drop=True)
    return _typed_echoes(df)


def _typed_echoes(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("flow", "requester", "responder"):
        df[c] = df[c].astype("string")
    for c in ("identifier", "seq", "frame"):
        df[c] = _int64(df[c])
    for c in ("t_sent", "t_reply", "rtt_ms"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["fate"] = pd.Categorical(df["fate"], categories=["answered", "unanswered", "unsent"])
    return df


def stream_frame(packets: pd.DataFrame) -> pd.DataFrame:
    """UDP/RTP packets per flow: `flow`, `t`, `seq`, `gap_ms` (inter-arrival), `missing_before`.

    `seq` is the RTP sequence number unwrapped (RFC 3550 §A.1) or, for plain UDP, the packet's rank in
    its flow; `missing_before` counts the sequence numbers skipped just before this packet. A packet seen
    twice (e.g. tunnelled and then forwarded at a home agent) is kept once.
    """
    cols = ["flow", "frame", "t", "seq", "gap_ms", "missing_before"]
    kinds = packets["kind"].astype(str) if len(packets) else pd.Series(dtype=str)
    data = packets[kinds.isin(["udp", "rtp"])] if len(packets) else packets
    parts = []
    key: Any
    for key, g in data.groupby(["inner_src", "sport", "inner_dst", "dport"], sort=True,
                                                    observed=True):
        src, sport, dst, dport = key
        g = g.sort_values("ts")
        has_rtp = g["rtp_seq"].notna().all()
        if has_rtp:
            g = g.drop_duplicates("rtp_seq", keep="first")
            seq = _unwrap16(g["rtp_seq"].to_numpy(dtype="int64"))
        else:
            seq = np.arange(len(g))
        t = g["ts"].to_numpy(dtype=float)
        gaps = np.concatenate([[math.nan], np.diff(t) * 1e3])
        missing = np.concatenate([[0], np.clip(np.diff(seq) - 1, 0, None)])
        parts.append(pd.DataFrame({
            "flow": f"{'rtp' if has_rtp else 'udp'} [{src}]:{sport}>[{dst}]:{dport}",
            "frame": g["frame"].to_numpy(), "t": t, "seq": seq, "gap_ms": gaps, "missing_before": missing}))
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    df["flow"] = df["flow"].astype("string")
    df["frame"] = _int64(df["frame"])
    df["t"] = pd.to_numeric(df["t"], errors="coerce").astype("float64")
    df["seq"] = pd.to_numeric(df["seq"], errors="coerce").astype("int64")
    df["gap_ms"] = pd.to_numeric(df["gap_ms"], errors="coerce").astype("float64")
    df["missing_before"] = pd.to_numeric(df["missing_before"], errors="coerce").astype("int64")
    return df


def _jitter_ms(gaps_ms: np.ndarray) -> float:
    """RFC 3550 §6.4.1 interarrival jitter J += (|D| - J)/16, with D the deviation of each arrival gap
    from the flow's median gap (the send interval, which a passive capture does not see directly)."""
    gaps = gaps_ms[~np.isnan(gaps_ms)]
    if not len(gaps):
        return math.nan
    med = float(np.median(gaps))
    j = 0.0
    for g in gaps:
        j += (abs(g - med) - j) / 16.0
    return j


def flows_frame(echoes: pd.DataFrame, stream: pd.DataFrame) -> pd.DataFrame:
    """Per data flow: packets, losses, RTT (echo) and jitter (streams)."""
    rows = []
    for flow, g in echoes.groupby("flow", sort=True, observed=True):
        rtt = g["rtt_ms"].dropna()
        fates = g["fate"].astype(str)
        rows.append({
            "flow": flow, "kind": "echo", "src": g["requester"].iloc[0], "dst": g["responder"].iloc[0],
            "identifier": g["identifier"].iloc[0], "sport": pd.NA, "dport": pd.NA,
            "first": float(g["t_sent"].min()), "last": float(g["t_sent"].max()),
            "packets": int((fates != "unsent").sum()), "received": int((fates == "answered").sum()),
            "lost": int((fates != "answered").sum()), "unsent": int((fates == "unsent").sum()),
            "unanswered": int((fates == "unanswered").sum()), "missing": 0,
            "rtt_ms_min": rtt.min() if len(rtt) else math.nan,
            "rtt_ms_median": rtt.median() if len(rtt) else math.nan,
            "rtt_ms_max": rtt.max() if len(rtt) else math.nan,
            "jitter_ms": _jitter_ms(np.diff(rtt.to_numpy(dtype=float))) if len(rtt) > 2 else math.nan,
        })
    for flow, g in stream.groupby("flow", sort=True, observed=True):
        name = str(flow)
        src, _, dst = name.split(" ", 1)[1].partition(">")
        rows.append({
            "flow": name, "kind": name.split(" ", 1)[0], "src": src.rsplit(":", 1)[0].strip("[]"),
            "dst": dst.rsplit(":", 1)[0].strip("[]"), "identifier": pd.NA,
            "sport": int(src.rsplit(":", 1)[1]), "dport": int(dst.rsplit(":", 1)[1]),
            "first": float(g["t"].min()), "last": float(g["t"].max()), "packets": len(g),
            "received": len(g), "lost": int(g["missing_before"].sum()), "unsent": 0, "unanswered": 0,
            "missing": int(g["missing_before"].sum()), "rtt_ms_min": math.nan, "rtt_ms_median": math.nan,
            "rtt_ms_max": math.nan, "jitter_ms": _jitter_ms(g["gap_ms"].to_numpy(dtype=float)),
        })
    cols = ["flow", "kind", "src", "dst", "identifier", "sport", "dport", "first", "last", "packets",
            "received", "lost", "unsent", "unanswered", "missing", "rtt_ms_min", "rtt_ms_median",
            "rtt_ms_max", "jitter_ms"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("flow", "src", "dst"):
        df[c] = df[c].astype("string")
    df["kind"] = pd.Categorical(df["kind"], categories=["echo", "udp", "rtp"])
    for c in ("identifier", "sport", "dport"):
        df[c] = _int64(df[c])
    for c in ("packets", "received", "lost", "unsent", "unanswered", "missing"):
        df[c] = pd.to_numeric(df[c]).astype("int64")
    for c in ("first", "last", "rtt_ms_min", "rtt_ms_median", "rtt_ms_max", "jitter_ms"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    return df


# --- report records as tables -------------------------------------------------------------------------

_TIMELINE = ("t_last_old", "t_link_up", "t_movement_detected", "t_dad", "t_bu", "t_ba", "t_resumed")
_HANDOVER_COLUMNS = (
    "capture", "id", "home_address", "home_agent", "kind", "old_coa", "new_coa", "result", *_TIMELINE,
    "bu_seq", "bu_retransmissions", "ba_status", "ba_status_name",
    "latency_ms.total", "latency_ms.movement_detection", "latency_ms.address_configuration",
    "latency_ms.registration", "latency_ms.resumption",
    "lost.echo_unsent", "lost.echo_unanswered", "lost.stream_missing", "rtt_ms.before", "rtt_ms.after",
)
_BINDING_COLUMNS = ("capture", "home_address", "home_agent", "care_of_address", "kind", "t_bu", "t_ba",
                    "seq", "lifetime_s", "status")
_MN_COLUMNS = ("capture", "home_address", "home_agent", "care_of_addresses")


def _flatten(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Records -> DataFrame with nested dicts flattened to `a.b` columns; contract columns always present."""
    df = pd.json_normalize([dict(r) for r in records], sep=".") if records else pd.DataFrame()
    for c in columns:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype="object")
    rest = [c for c in df.columns if c not in columns]
    return df[list(columns) + rest].reset_index(drop=True)


def _type_columns(df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        name = str(c)
        if name in ("capture", "home_address", "home_agent", "old_coa", "new_coa", "care_of_address",
                    "ba_status_name", "name", "detail", "layer") or name.endswith(("_address", "_coa")):
            df[c] = df[c].astype("string")
        elif name in ("kind", "result"):
            df[c] = df[c].astype("category")
        elif name.startswith(("t_", "latency_ms.", "rtt_ms.")) or name == "ts":
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        elif name.startswith("lost.") or name in ("id", "bu_seq", "bu_retransmissions", "ba_status", "seq",
                                                   "lifetime_s", "status", "frame", "offset"):
            df[c] = _int64(df[c])
    return df


# --- the Analysis object ------------------------------------------------------------------------------


class Analysis:
    """A loaded capture (or several): the report's records and the packets, as pandas tables.

    Build it with `mipsniff.load(path)` or `mipsniff.read_report(json)`; every table is computed on
    first use and cached.
    """

    def __init__(self, reports: Sequence[Mapping[str, Any]], packet_rows: Sequence[Mapping[str, Any]] | None
                 = None, *, paths: Sequence[Path] = (), vantage: str = "auto", packets: str = "relevant") -> None:
        if packets not in ("relevant", "all"):
            raise UserError(f"unknown packets selection {packets!r}: use 'relevant' or 'all'")
        self.reports: list[dict[str, Any]] = [dict(r) for r in reports]
        self._packet_rows = packet_rows
        self.paths = list(paths)
        self.vantage = vantage
        self.packet_selection = packets

    def _home_addresses(self) -> set[IPv6Address]:
        """The mobile nodes' home addresses, as the report names them."""
        return {IPv6Address(mn["home_address"]) for r in self.reports for mn in r.get("mobile_nodes") or []
                if mn.get("home_address")}

    def __repr__(self) -> str:
        names = ", ".join(_capture_name(r) for r in self.reports)
        return (f"<Analysis {names}: {len(self.mobile_nodes)} mobile node(s), {len(self.handovers)} "
                f"handover(s), {len(self.bindings)} binding(s), {len(self.weirds)} weird(s)>")

    # -- the report's records
    @property
    def report(self) -> dict[str, Any]:
        """The report dict (issue 4 JSON contract); for several captures, the first one."""
        return self.reports[0] if self.reports else {}

    def _records(self, key: str) -> list[dict[str, Any]]:
        out = []
        for r in self.reports:
            for rec in r.get(key) or []:
                out.append({"capture": _capture_name(r), **rec})
        return out

    @cached_property
    def handovers(self) -> pd.DataFrame:
        """One row per handover, sorted by `t_bu` within each capture; nested metrics flattened."""
        df = _type_columns(_flatten(self._records("handovers"), _HANDOVER_COLUMNS))
        for c in ("kind", "result"):
            df[c] = df[c].astype("category")
        return df

    @cached_property
    def bindings(self) -> pd.DataFrame:
        """One row per BU/BA exchange (registration, refresh, deregistration)."""
        return _type_columns(_flatten(self._records("bindings"), _BINDING_COLUMNS))

    @cached_property
    def mobile_nodes(self) -> pd.DataFrame:
        """One row per mobile node (home address); `care_of_addresses` is a list."""
        return _type_columns(_flatten(self._records("mobile_nodes"), _MN_COLUMNS))

    @cached_property
    def weirds(self) -> pd.DataFrame:
        """The report's weirds (protocol violations and malformed packets)."""
        recs: list[Mapping[str, Any]] = [w if isinstance(w, Mapping) else {"name": str(w)}
                                         for w in self._records("weirds")]
        return _type_columns(_flatten(recs, ("capture", "name")))

    # -- packets and derived tables
    @cached_property
    def packets(self) -> pd.DataFrame:
        """One row per packet (see `PacketRow`); read from the capture on first use, with a progress bar.

        By default (`load(..., packets="relevant")`) the packets the report reads: mobility signalling,
        ND, tunnels, ICMPv6 errors, and all traffic of the mobile nodes' home addresses — so the table
        grows with the mobility traffic, not with the capture. `packets="all"` gives every frame."""
        if self._packet_rows is None:
            homes = None if self.packet_selection == "all" else self._home_addresses()
            # Typed chunks keep peak memory near the final table's size: per-row Python objects only
            # ever exist for one chunk.
            parts = [packets_frame(chunk) for path in self.paths
                     for chunk in _read_packet_chunks(path, self.vantage, addresses=homes)]
            if not parts:
                return packets_frame([])
            df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            for c in ("kind", "type"):  # categories differ between chunks: unify them
                df[c] = df[c].astype(str).astype("category")
            return df
        return packets_frame(self._packet_rows)

    @cached_property
    def echoes(self) -> pd.DataFrame:
        """One row per ICMPv6 echo request with its fate and RTT (see `echoes_frame`)."""
        return echoes_frame(self.packets)

    def stream(self) -> pd.DataFrame:
        """UDP/RTP packets with sequence numbers and inter-arrival gaps (see `stream_frame`)."""
        return self._stream

    @cached_property
    def _stream(self) -> pd.DataFrame:
        return stream_frame(self.packets)

    @cached_property
    def flows(self) -> pd.DataFrame:
        """One row per data flow: echo identifier or UDP/RTP 5-tuple, counts, losses, RTT, jitter."""
        return flows_frame(self.echoes, self._stream)

    def handover(self, i: int) -> HandoverView:
        """The i-th handover (row i of `handovers`) with its packets and figures."""
        if not -len(self.handovers) <= i < len(self.handovers):
            raise IndexError(f"handover {i} out of range: {len(self.handovers)} handover(s)")
        return HandoverView(analysis=self, index=i % len(self.handovers),
                            record=self._records("handovers")[i])

    def __iter__(self) -> Iterator[HandoverView]:
        return (self.handover(i) for i in range(len(self.handovers)))

    # -- export
    def to_dict(self, *, packets: bool = True) -> dict[str, Any]:
        """The report dict(s), plus the packet rows so `read_report` can rebuild every table."""
        out: dict[str, Any]
        out = dict(self.reports[0]) if len(self.reports) == 1 else {"reports": self.reports}
        if packets:
            pk = self.packets.drop(columns=["time"])
            out["packets"] = [{k: _json_value(v) for k, v in rec.items()} for rec in _rows(pk)]
        return out

    def to_json(self, path: PathLike | None = None, *, packets: bool = True, indent: int | None = None) -> str:
        """JSON text of `to_dict()`; also written to `path` if given."""
        text = json.dumps(self.to_dict(packets=packets), indent=indent, default=_json_value)
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_parquet(self, directory: PathLike) -> list[Path]:
        """Write packets, handovers, bindings, mobile_nodes, weirds, echoes and flows as Parquet (pyarrow)."""
        out_dir = Path(directory)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name in ("packets", "handovers", "bindings", "mobile_nodes", "weirds", "echoes", "flows"):
            df = getattr(self, name).copy()
            for c in df.columns:
                if df[c].dtype == object:  # lists (frames, care_of_addresses) and mixed values
                    df[c] = df[c].map(lambda v: None if v is None else json.dumps(v, default=_json_value))
            target = out_dir / f"{name}.parquet"
            df.to_parquet(target, engine="pyarrow", index=False)
            written.append(target)
        return written

    # -- figures
    def plot_ladder(self, i: int = 0, ax: Axes | None = None) -> Axes:
        """Ladder diagram of handover i (see `figures.plot_ladder`)."""
        return self.handover(i).plot_ladder(ax=ax)

    def plot_rtt(self, ax: Axes | None = None, *, flow: str | None = None) -> Axes:
        """RTT of every echo request over the whole capture, blackouts shaded (see `figures.plot_rtt`)."""
        from mipsniff.report.figures import plot_rtt

        echoes = self.echoes if flow is None else self.echoes[self.echoes["flow"] == flow]
        return plot_rtt(echoes, ax, handovers=self._records("handovers"))

    def plot_stream(self, ax: Axes | None = None) -> Axes:
        """Sequence numbers and inter-arrival gaps of the UDP/RTP streams (see `figures.plot_stream`)."""
        from mipsniff.report.figures import plot_stream

        return plot_stream(self._stream, ax, handovers=self._records("handovers"))

    def plot_breakdown(self, ax: Axes | None = None) -> Axes:
        """Stacked latency components per handover (see `figures.plot_breakdown`)."""
        from mipsniff.report.figures import plot_breakdown

        return plot_breakdown(self.handovers, ax, labels=self._handover_labels())

    def plot_cdf(self, ax: Axes | None = None, *, by: str | None = None) -> Axes:
        """CDF of total handover latency, per capture if several were loaded, else per MN."""
        from mipsniff.report.figures import plot_cdf

        if by is None:
            by = "capture" if len(self.reports) > 1 else "home_address"
        return plot_cdf(self.handovers, ax, by=by)

    PLOT_KINDS = ("ladder", "rtt", "stream", "breakdown", "cdf")

    def plot(self, kind: str, *, handover: int | None = None, ax: Axes | None = None) -> Axes:
        """One figure by name (the CLI's `plot --kind`): ladder, rtt, stream, breakdown or cdf.

        `handover` selects one handover for ladder (default 0), rtt and stream (default: whole capture).
        """
        if kind not in self.PLOT_KINDS:
            raise UserError(f"unknown plot kind {kind!r}: choose one of {', '.join(self.PLOT_KINDS)}")
        if kind in ("ladder", "rtt", "stream") and handover is not None or kind == "ladder":
            if not len(self.handovers):
                raise UserError("no handover in this capture: nothing to draw a ladder for")
            n = len(self.handovers)
            i = 0 if handover is None else handover
            if not -n <= i < n:
                raise UserError(f"--handover {i}: this capture has {n} handover(s), numbered 0..{n - 1}")
            view = self.handover(i)
            return {"ladder": view.plot_ladder, "rtt": view.plot_rtt, "stream": view.plot_stream}[kind](ax)
        if kind == "rtt":
            return self.plot_rtt(ax)
        if kind == "stream":
            return self.plot_stream(ax)
        if kind == "breakdown":
            return self.plot_breakdown(ax)
        return self.plot_cdf(ax)

    def _handover_labels(self) -> list[str]:
        rows = _rows(self.handovers)
        if len(self.reports) > 1:
            return [f"{r['capture']} #{r['id']}" for r in rows]
        if len({r["home_address"] for r in rows}) > 1:  # several MNs: say whose handover it is
            return [f"#{r['id']} {r['home_address']}" for r in rows]
        return [f"#{r['id']} {r['kind']}" for r in rows]


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoverView:
    """One handover of an `Analysis`: its report record, its packets and its figures."""

    analysis: Analysis = field(repr=False)
    index: int
    record: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.record[key]

    @property
    def window(self) -> tuple[float, float]:
        """[first, last] observed timeline instant (normally `t_last_old` .. `t_resumed`)."""
        times = [float(self.record[k]) for k in _TIMELINE if self.record.get(k) is not None]
        return (min(times), max(times)) if times else (math.nan, math.nan)

    @property
    def packets(self) -> pd.DataFrame:
        """The packets of this capture inside the handover window."""
        lo, hi = self.window
        p = self.analysis.packets
        cap = self.record.get("capture")
        sel = (p["ts"] >= lo - 1e-7) & (p["ts"] <= hi + 1e-7)
        if cap is not None and len(self.analysis.reports) > 1:
            sel &= p["capture"] == cap
        return p[sel].reset_index(drop=True)

    @property
    def echoes(self) -> pd.DataFrame:
        """This MN's echo requests (as requester or responder) around the handover window."""
        e = self.analysis.echoes
        lo, hi = self.window
        margin = max(2.0, (hi - lo))
        hoa = self.record.get("home_address")
        mine = (e["requester"] == hoa) | (e["responder"] == hoa)
        return e[mine & (e["t_sent"] >= lo - margin) & (e["t_sent"] <= hi + margin)].reset_index(drop=True)

    def plot_ladder(self, ax: Axes | None = None) -> Axes:
        from mipsniff.report.figures import plot_ladder

        return plot_ladder(self.record, ax, packets=self.packets)

    def plot_rtt(self, ax: Axes | None = None) -> Axes:
        from mipsniff.report.figures import plot_rtt

        return plot_rtt(self.echoes, ax, handovers=[self.record],
                        title=f"Handover {self.record.get('id')}: echo RTT")

    def plot_stream(self, ax: Axes | None = None) -> Axes:
        from mipsniff.report.figures import plot_stream

        s = self.analysis.stream()
        lo, hi = self.window
        margin = max(1.0, hi - lo)
        hoa = str(self.record.get("home_address"))
        s = s[s["flow"].str.contains(f"[{hoa}]", regex=False) & (s["t"] >= lo - margin) & (s["t"] <= hi + margin)]
        return plot_stream(s, ax, handovers=[self.record])


def _capture_name(report: Mapping[str, Any]) -> str:
    cap = report.get("capture") or {}
    path = cap.get("path") if isinstance(cap, Mapping) else None
    return Path(str(path)).stem if path else str(report.get("scenario", ""))


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, pd.Timestamp):
        return v.timestamp()
    if isinstance(v, np.ndarray):
        return v.tolist()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


# --- loading ------------------------------------------------------------------------------------------


def _read_packet_rows(path: Path, vantage: str = "auto") -> list[PacketRow]:
    """Every packet of a capture as one list of `PacketRow`s (see `_read_packet_chunks`)."""
    return [row for chunk in _read_packet_chunks(path, vantage) for row in chunk]


def _read_packet_chunks(path: Path, vantage: str = "auto", chunk: int = 50_000,
                        addresses: Iterable[IPv6Address] | None = None) -> Iterator[list[PacketRow]]:
    """Dissect the frames of a capture into lists of at most `chunk` `PacketRow`s (progress bar for
    files over ~10 MB).

    With `addresses`, only the frames the report reads are dissected: the mobility-relevant ones (the
    byte-level prefilter of `dissectors.prefilter`) and every packet to or from one of `addresses`
    (the mobile nodes' home addresses), so the table's size follows the mobility traffic, not the
    capture's. With None, every frame.

    A pcapng holding one interface per capture point (`mipsniff synth --vantage both`) is read at the
    vantage's interface only, as the report does, so a packet crossing both points is not counted twice.
    """
    from dissectors import dissect
    from dissectors.prefilter import Prefilter
    from mipsniff.capture.reader import open_capture
    from mipsniff.correlate import Vantage
    from mipsniff.report.pipeline import vantage_interface

    rows: list[PacketRow] = []
    with open_capture(path) as reader, _progress_bar(path) as tick:
        frames = iter(reader) if addresses is None else reader.iter_relevant(Prefilter(addresses))
        only: int | None = None
        first = True
        for frame in frames:
            if first:
                first = False
                if len(reader.interfaces) > 1:
                    only = vantage_interface(reader.interfaces, Vantage(vantage))
            if only is not None and frame.interface != only:
                continue
            pkt = dissect(frame.linktype, frame.data)
            rows.append(packet_row(frame.index, frame.ts_ns, pkt, length=frame.wire_len, capture=path.stem,
                                   interface=frame.interface))
            if tick is not None and frame.index % 4096 == 0:
                tick(frame.index, 0)
            if len(rows) >= chunk:
                yield rows
                rows = []
    if rows:
        yield rows


@contextmanager
def _progress_bar(path: Path) -> Iterator[Callable[[int, int], None] | None]:
    """A frame counter for large captures: tqdm (notebook-aware) if installed, else rich on a terminal."""
    if path.stat().st_size < 10_000_000:
        yield None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(desc=f"reading {path.name}", unit=" frames", leave=False)
        done = [0]

        def tick_tqdm(frames: int, size: int) -> None:
            bar.update(frames - done[0])
            done[0] = frames

        try:
            yield tick_tqdm
        finally:
            bar.close()
        return
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("reading {task.description}: {task.completed} frames"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(path.name, total=None)

        def tick_rich(frames: int, size: int) -> None:
            progress.update(task, completed=frames)

        yield tick_rich


def _build_report(path: Path, vantage: str) -> dict[str, Any]:
    from mipsniff.correlate import Vantage
    from mipsniff.report.pipeline import analyze

    try:
        v = Vantage(vantage)
    except ValueError:
        raise UserError(f"unknown vantage {vantage!r}: use mn, ha or auto") from None
    with _progress_bar(path) as tick:
        report = analyze(path, vantage=v, progress=tick)
    return report.to_dict()


def load(paths: PathLike | Sequence[PathLike], *, vantage: str = "auto", client: Any = None,
         packets: str = "relevant") -> Analysis:
    """Analyse one capture or several (e.g. one per scenario): report now, packets on first use.

    `packets` chooses the rows of `.packets`: "relevant" (default; what the report reads: signalling,
    ND, tunnels and the mobile nodes' own traffic) or "all" (every frame; memory grows with the capture).

    With `client` (a `dask.distributed.Client`), `paths` (files, directories, globs) are one capture
    split into files, e.g. a ring buffer: mapped on the cluster and reduced into one report
    (mipsniff.multi); the packets table then numbers frames per file."""
    if client is not None:
        from mipsniff.multi.pipeline import report_document

        doc, read = report_document(paths, client=client, vantage=vantage)
        return Analysis([doc], None, paths=read, vantage=vantage, packets=packets)
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not items:
        raise UserError("no capture given: pass a path or a list of paths")
    resolved = []
    for p in items:
        path = Path(p)
        if not path.is_file():
            raise UserError(f"{path}: no such capture file")
        resolved.append(path)
    reports = [_build_report(p, vantage) for p in resolved]
    return Analysis(reports, None, paths=resolved, vantage=vantage, packets=packets)


def read_report(source: PathLike | Mapping[str, Any] | str) -> Analysis:
    """Rebuild an `Analysis` from `to_json()` output or a `mipsniff report --json` file (path, text or dict)."""
    data: Any
    if isinstance(source, Mapping):
        data = source
    else:
        text = str(source)
        if isinstance(source, os.PathLike) or not text.lstrip().startswith("{"):
            try:
                text = Path(source).read_text()
            except OSError as exc:
                raise UserError(f"{source}: cannot read report JSON ({exc.strerror})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"not a mipsniff report JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise UserError("not a mipsniff report JSON: expected an object")
    reports = data["reports"] if "reports" in data else [{k: v for k, v in data.items() if k != "packets"}]
    packets = data.get("packets")
    return Analysis(reports, packets if packets is not None else [])
