"""Renderers for `mipsniff show`: one dissected packet -> a JSON-ready dict or a tcpdump-like line.

Pure functions (no I/O), so `report` and `live` reuse them. The JSON schema is documented in the
README ("## mipsniff show"); keys are stable. The text line follows tcpdump's Mobile IPv6 printer
(print-mobility.c: `BU seq#=54814 AH lifetime=262140`, `BA status=0 seq#=54814 lifetime=262140`),
with the Home Address (from the Home Address option, RFC 6275 §6.3, or the type 2 routing header,
§6.4) and the care-of address added, because those are what a handover analysis needs.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from dissectors import dissect
from dissectors.icmpv6 import EchoReply, EchoRequest, ICMPv6, ICMPv6Error, PacketTooBig, ParameterProblem
from dissectors.ipv6 import IPv4, IPv6, Raw
from dissectors.link import L2Event
from dissectors.mobility import (
    AlternateCareofAddress,
    BindingAcknowledgement,
    BindingError,
    BindingRevocationAcknowledgement,
    BindingRevocationIndication,
    BindingUpdate,
    CareofTest,
    CareofTestInit,
    FastBindingAcknowledgement,
    FastBindingUpdate,
    HomeTest,
    HomeTestInit,
    MobilityHeader,
)
from dissectors.nd import (
    AdvertisementInterval,
    Fmipv6Message,
    HomeAgentDiscoveryReply,
    HomeAgentDiscoveryRequest,
    HomeAgentInformation,
    MobilePrefixAdvertisement,
    MobilePrefixSolicitation,
    NeighborAdvertisement,
    NeighborSolicitation,
    PrefixInformation,
    PrRtAdv,
    Redirect,
    RouterAdvertisement,
    RtSolPr,
)
from dissectors.packet import Packet
from dissectors.udp import TCP, UDP
from dissectors.weirds import Weird
from mipsniff.capture.frame import Frame

# Short names, as tcpdump and the RFCs abbreviate them (RFC 6275 §6.1, RFC 5568 §6, RFC 5142,
# RFC 5847, RFC 5846, RFC 6705).
MH_NAMES = {0: "BRR", 1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE", 8: "FBU",
            9: "FBack", 10: "FNA", 11: "EMH", 12: "HAS", 13: "HB", 14: "HI", 15: "HAck", 16: "BR",
            17: "LRI", 18: "LRA"}
ICMP_NAMES = {1: "DestUnreach", 2: "PacketTooBig", 3: "TimeExceeded", 4: "ParamProblem",
              128: "EchoRequest", 129: "EchoReply", 133: "RS", 134: "RA", 135: "NS", 136: "NA",
              137: "Redirect", 144: "HAADRequest", 145: "HAADReply", 146: "MPS", 147: "MPA", 154: "FMIPv6"}
_ND_TYPES = frozenset({133, 134, 135, 136, 137, 144, 145, 146, 147, 154})


_ADDR_TEXT: dict[int, tuple[IPv6Address | IPv4Address, str]] = {}
_LETTERS: dict[tuple[type, int], str] = {}
_NAMES: dict[tuple[type, int], str] = {}


def addr(a: IPv6Address | IPv4Address) -> str:
    """RFC 5952 text of an address, memoised: a capture holds few distinct addresses (the dissectors
    hand out one shared object per address), and `ipaddress`'s formatting is the most expensive step
    of a show line. Keyed by identity; the entry holds the object, so its id cannot be reused."""
    entry = _ADDR_TEXT.get(id(a))
    if entry is not None and entry[0] is a:
        return entry[1]
    if len(_ADDR_TEXT) > 65536:
        _ADDR_TEXT.clear()
    text = str(a)
    _ADDR_TEXT[id(a)] = (a, text)
    return text


def letters(flags: enum.IntFlag) -> str:
    """`flags.letters` (wire order, "AH"), memoised per flag type and value."""
    key = (type(flags), int(flags))
    text = _LETTERS.get(key)
    if text is None:
        text = _LETTERS[key] = flags.letters  # type: ignore[attr-defined]
    return text


# --- JSON ---------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A record or value as JSON-ready data: addresses as text, bytes as hex, enums as numbers,
    dataclasses as dicts of their fields (byte offsets left out: they are for debugging)."""
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, enum.IntFlag):
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (IPv6Address, IPv4Address)):
        return addr(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if f.name in ("offset", "header_offset"):
                continue
            out[f.name] = jsonable(getattr(value, f.name))
        return out
    return str(value)


def option_dict(option: Any) -> dict[str, Any]:
    """One option (mobility, ND or IPv6) as `{"name": <record name>, "type": <wire type>, ...fields}`."""
    d = jsonable(option)
    if not isinstance(d, dict):
        d = {"value": d}
    d.pop("option_type", None)
    flags = getattr(option, "flags", None)
    if isinstance(flags, enum.IntFlag) and hasattr(flags, "letters"):
        d["flags"] = letters(flags)
    return {"name": type(option).__name__, "type": int(getattr(option, "option_type", -1)), **d}


def weird_dict(w: Weird) -> dict[str, Any]:
    return {"name": w.name, "detail": w.detail, "layer": w.layer, "offset": w.offset}


def _mh_name(mh: MobilityHeader) -> str:
    if isinstance(mh, BindingRevocationIndication):
        return "BRI"
    if isinstance(mh, BindingRevocationAcknowledgement):
        return "BRA"
    return MH_NAMES.get(int(mh.mh_type), f"MH{int(mh.mh_type)}")


def _icmp_name(msg: ICMPv6) -> str:
    if isinstance(msg, RtSolPr):
        return "RtSolPr"
    if isinstance(msg, PrRtAdv):
        return "PrRtAdv"
    return ICMP_NAMES.get(msg.icmp_type, f"ICMPv6-{msg.icmp_type}")


def ip_record(ip: IPv6 | IPv4 | None) -> dict[str, Any]:
    """The show schema for one IP header and what it carries (no frame/ts): used for the outer
    packet, for a tunnel's `inner` and for an ICMPv6 error's `invoking` packet."""
    rec: dict[str, Any] = {"src": None, "dst": None, "kind": "other", "type": None}
    if ip is None:
        return rec
    rec["src"], rec["dst"] = addr(ip.src), addr(ip.dst)
    if isinstance(ip, IPv4):
        rec["ip_version"] = 4
    if isinstance(ip, IPv6):
        home = ip.home_address if ip.home_address is not None else ip.routing_home_address
        if home is not None:
            rec["home_address"] = addr(home)
    up = ip.payload
    if isinstance(up, (IPv6, IPv4)):
        rec["kind"] = "tunnel"
        rec["type"] = "6in6" if isinstance(up, IPv6) else "4in6"
        rec["inner"] = ip_record(up)
    elif isinstance(up, MobilityHeader):
        _mobility(rec, ip, up)
    elif isinstance(up, ICMPv6):
        _icmpv6(rec, ip, up)
    elif isinstance(up, TCP):
        rec["type"] = "TCP"
        rec["src_port"], rec["dst_port"] = up.src_port, up.dst_port
        rec["flags"] = letters(up.flags)
        rec["seq"] = up.sequence
    elif isinstance(up, UDP):
        rec["type"] = "UDP"
        rec["src_port"], rec["dst_port"] = up.src_port, up.dst_port
        if up.rtp is not None:
            rec["rtp"] = jsonable(up.rtp)
    elif isinstance(up, Raw):
        rec["type"] = f"proto-{up.protocol}"
    else:
        rec["type"] = "none" if ip.protocol == 59 else f"proto-{ip.protocol}"
    return rec


def _mobility(rec: dict[str, Any], ip: IPv6 | IPv4, mh: MobilityHeader) -> None:
    rec["kind"] = "mh"
    rec["type"] = _mh_name(mh)
    rec["mh_type"] = int(mh.mh_type)
    rec["checksum_ok"] = mh.checksum_ok
    if isinstance(mh, (BindingUpdate, FastBindingUpdate)):
        rec["seq"] = mh.sequence
        rec["flags"] = letters(mh.flags)
        rec["lifetime_s"] = mh.lifetime_s
        # RFC 6275 §6.1.7: the care-of address is the source address unless an Alternate Care-of
        # Address option says otherwise.
        coa = next((o.address for o in mh.options if isinstance(o, AlternateCareofAddress)), ip.src)
        rec["care_of_address"] = addr(coa)
    elif isinstance(mh, (BindingAcknowledgement, FastBindingAcknowledgement)):
        rec["seq"] = mh.sequence
        rec["flags"] = letters(mh.flags) if isinstance(mh, BindingAcknowledgement) else ""
        rec["lifetime_s"] = mh.lifetime_s
        rec["status"] = int(mh.status)
        rec["status_name"] = _status_name(mh.status)
        # The BA goes to the care-of address, the home address rides in the type 2 RH (§6.1.8).
        rec["care_of_address"] = addr(ip.dst)
    elif isinstance(mh, BindingError):
        rec["status"] = int(mh.status)
        rec["status_name"] = _status_name(mh.status)
        rec["home_address"] = addr(mh.home_address)
    elif isinstance(mh, (HomeTestInit, CareofTestInit)):
        rec["cookie"] = mh.cookie
    elif isinstance(mh, (HomeTest, CareofTest)):
        rec["nonce_index"] = mh.nonce_index
    elif hasattr(mh, "sequence"):
        rec["seq"] = mh.sequence
    # Pad1 / PadN (types 0 and 1, RFC 6275 §6.2.2-6.2.3) only align the others: left out.
    rec["options"] = [option_dict(o) for o in mh.options if int(o.option_type) > 1]


def _status_name(status: int) -> str:
    """The IANA name of a status code (enum member), or its number when the registry has none."""
    key = (type(status), int(status))
    name = _NAMES.get(key)
    if name is None:
        name = _NAMES[key] = status.name if isinstance(status, enum.IntEnum) else str(int(status))
    return name


def _icmpv6(rec: dict[str, Any], ip: IPv6 | IPv4, msg: ICMPv6) -> None:
    t = msg.icmp_type
    rec["type"] = _icmp_name(msg)
    rec["icmp_type"], rec["code"] = t, msg.code
    rec["checksum_ok"] = msg.checksum_ok
    if isinstance(msg, (EchoRequest, EchoReply)):
        rec["kind"] = "echo"
        rec["id"], rec["seq"] = msg.identifier, msg.sequence
    elif isinstance(msg, ICMPv6Error):
        rec["kind"] = "icmp6_error"
        if isinstance(msg, ParameterProblem):
            rec["pointer"], rec["pointer_target"] = msg.pointer, msg.pointer_target
        if isinstance(msg, PacketTooBig):
            rec["mtu"] = msg.mtu
        rec["invoking"] = ip_record(msg.invoking) if msg.invoking is not None else None
    elif t in _ND_TYPES:
        rec["kind"] = "nd"
        if isinstance(msg, RouterAdvertisement):
            rec["flags"] = letters(msg.flags)
            rec["lifetime_s"] = msg.router_lifetime_s
            rec["preference"] = _status_name(msg.preference)
        elif isinstance(msg, NeighborSolicitation):
            rec["target"] = addr(msg.target)
            rec["dad"] = isinstance(ip, IPv6) and ip.is_dad
        elif isinstance(msg, NeighborAdvertisement):
            rec["target"] = addr(msg.target)
            rec["flags"] = letters(msg.flags)
        elif isinstance(msg, Redirect):
            rec["target"], rec["destination"] = str(msg.target), str(msg.destination)
        elif isinstance(msg, (HomeAgentDiscoveryRequest, MobilePrefixSolicitation)):
            rec["id"] = msg.identifier
        elif isinstance(msg, HomeAgentDiscoveryReply):
            rec["id"] = msg.identifier
            rec["home_agents"] = [str(a) for a in msg.addresses]
        elif isinstance(msg, MobilePrefixAdvertisement):
            rec["id"] = msg.identifier
            rec["flags"] = letters(msg.flags)
        elif isinstance(msg, Fmipv6Message):
            rec["id"] = msg.identifier
            rec["subtype"] = int(msg.subtype)
        options = getattr(msg, "options", None)
        if options is not None:
            rec["options"] = [option_dict(o) for o in options]
    else:
        rec["kind"] = "other"


def l2_record(ev: L2Event) -> dict[str, Any]:
    return {"src": ev.src_mac, "dst": ev.dst_mac, "kind": "l2", "type": ev.subtype, "bssid": ev.bssid,
            "ssid": ev.ssid, "status": ev.status, "reason": ev.reason}


def packet_record(index: int, ts_ns: int, packet: Packet) -> dict[str, Any]:
    """The JSON Lines record of one frame (README "## mipsniff show"): frame number, epoch seconds,
    the outer addresses, what it is, and every weird."""
    ev = packet.l2_event
    body = l2_record(ev) if ev is not None else ip_record(packet.ip)
    link = packet.link
    if packet.ip is None and ev is None and link is not None:
        # No IP (ARP, LLDP, 802.11 control and beacons, ... under --all): say what the link carries.
        body["src"], body["dst"] = link.src_mac, link.dst_mac
        body["type"] = f"ethertype-0x{link.ethertype:04x}" if link.ethertype is not None else link.kind
    # int / int is correctly rounded: the float nearest the exact timestamp, so a pcap's microseconds
    # print as written (1700000000.000123), as the ground-truth JSON contract expects.
    rec: dict[str, Any] = {"frame": index, "ts": ts_ns / 1_000_000_000}
    rec.update(body)
    rec["weirds"] = [weird_dict(w) for w in packet.weirds]
    return rec


def _no_default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


try:  # json.dumps's own C encoder, made once: what `json.dumps(rec)` runs, without its per-call setup
    from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
    from json.encoder import encode_basestring_ascii as _ascii

    _ENCODE = _c_make_encoder(None, _no_default, _ascii, None, ": ", ", ", False, False, True)
except (ImportError, TypeError):  # an interpreter without the C accelerator
    _ENCODE = None


def json_line(rec: dict[str, Any]) -> str:
    """`json.dumps(rec)`, byte for byte (same separators, ASCII escapes, float repr), ~25 % faster:
    the C encoder json.dumps builds on every call is built once, and the circular-reference check a
    fresh record cannot need is skipped."""
    if _ENCODE is None:
        return json.dumps(rec)
    return "".join(_ENCODE(rec, 0))


# --- text ---------------------------------------------------------------------------------------------


def describe(rec: dict[str, Any]) -> str:
    """The protocol part of a show line, from a record made by `ip_record` / `packet_record`."""
    kind, typ = rec.get("kind"), rec.get("type")
    parts: list[str] = [str(typ)]
    if kind == "mh":
        if "status" in rec and typ != "BE":
            parts.append(f"status={rec['status']}" + (f" ({rec['status_name']})" if rec["status"] else ""))
        if "seq" in rec:
            parts.append(f"seq#={rec['seq']}")
        if rec.get("flags"):
            parts.append(rec["flags"])
        if "lifetime_s" in rec:
            parts.append(f"lifetime={rec['lifetime_s']}")
        if typ == "BE":
            parts.append(f"status={rec['status']} ({rec['status_name']})")
        if rec.get("home_address"):
            parts.append(f"HoA {rec['home_address']}")
        if rec.get("care_of_address") and typ in ("BU", "FBU"):
            parts.append(f"CoA {rec['care_of_address']}")
        if rec.get("checksum_ok") is False:
            parts.append("[bad cksum]")
    elif kind == "nd":
        if typ == "RA":
            if rec.get("flags"):
                parts.append(f"[{rec['flags']}]")
            parts.append(f"lifetime={rec['lifetime_s']}s")
            for o in rec.get("options", []):
                if o["name"] == PrefixInformation.__name__:
                    parts.append(f"prefix {o['prefix']}/{o['prefix_length']}" + (f" [{o['flags']}]" if o.get("flags") else ""))
                elif o["name"] == AdvertisementInterval.__name__:
                    parts.append(f"advint={o['interval_ms']}ms")
                elif o["name"] == HomeAgentInformation.__name__:
                    parts.append(f"ha-info pref={o['preference']} lifetime={o['lifetime_s']}s")
        elif typ == "NS":
            parts.append(("DAD " if rec.get("dad") else "who has ") + str(rec.get("target")))
        elif typ == "NA":
            parts.append(f"tgt is {rec.get('target')}" + (f" [{rec['flags']}]" if rec.get("flags") else ""))
        elif "id" in rec:
            parts.append(f"id={rec['id']}")
    elif kind == "echo":
        parts.append(f"id=0x{rec['id']:04x} seq={rec['seq']}")
    elif kind == "icmp6_error":
        parts.append(f"code={rec['code']}")
        if "pointer" in rec:
            parts.append(f"pointer={rec['pointer']} ({rec['pointer_target']})")
        inv = rec.get("invoking")
        if inv:
            parts.append(f"for [{inv['src']} > {inv['dst']}  {describe(inv)}]")
    elif kind == "tunnel":
        inner = rec.get("inner") or {}
        parts.append(f"[{inner.get('src')} > {inner.get('dst')}  {describe(inner)}]")
    elif kind == "l2":
        if rec.get("ssid") is not None:
            parts.append(f'SSID "{rec["ssid"]}"')
        parts.append(f"BSSID {rec.get('bssid')}")
        if rec.get("status") is not None:
            parts.append(f"status={rec['status']}")
        if rec.get("reason") is not None:
            parts.append(f"reason={rec['reason']}")
    else:
        if "src_port" in rec:
            parts.append(f"{rec['src_port']} > {rec['dst_port']}")
        rtp = rec.get("rtp")
        if rtp:
            parts.append(f"RTP seq={rtp['sequence']} ts={rtp['timestamp']} ssrc=0x{rtp['ssrc']:08x}")
        if rec.get("home_address"):
            parts.append(f"HoA {rec['home_address']}")
    return " ".join(parts)


def packet_line(rec: dict[str, Any], t0_ns: int | None = None, ts_ns: int | None = None) -> str:
    """`frame  time  src > dst  description [weirds]`; time is relative to `t0_ns` (the capture's
    first frame) when given, else epoch seconds. `ts_ns` (the frame's exact timestamp) avoids float
    rounding in the relative time."""
    if t0_ns is not None:
        rel_ns = (ts_ns if ts_ns is not None else round(rec["ts"] * 1e9)) - t0_ns
        sign = "-" if rel_ns < 0 else ""
        sec, ns = divmod(abs(rel_ns), 1_000_000_000)
        when = f"{sign}{sec}.{ns // 1000:06d}"
    else:
        when = f"{rec['ts']:.6f}"
    line = f"{rec['frame']}  {when}  {rec.get('src')} > {rec.get('dst')}  {describe(rec)}"
    weirds = rec.get("weirds")
    if weirds:
        line += "  [weird: " + ", ".join(w["name"] for w in weirds) + "]"
    return line


# --- the packet loop ------------------------------------------------------------------------------------


def show_records(frames: Iterable[Frame], *, strict: bool = False) -> Iterator[tuple[Frame, dict[str, Any]]]:
    """Dissect each frame and make its show record. A dissector bug (any exception: dissectors never
    raise on bad input) becomes an `internal_error` weird on a bare record, unless `strict`."""
    for frame in frames:
        try:
            rec = packet_record(frame.index, frame.ts_ns, dissect(frame.linktype, frame.data))
        except Exception as exc:  # noqa: BLE001 - STYLE §4: record and go on
            if strict:
                raise
            rec = {"frame": frame.index, "ts": frame.ts_ns / 1_000_000_000, "src": None, "dst": None, "kind": "other",
                   "type": None, "weirds": [{"name": "internal_error", "detail": f"{type(exc).__name__}: {exc}",
                                             "layer": "show", "offset": -1}]}
        if frame.comment is not None:
            rec["comment"] = frame.comment
        yield frame, rec
