"""Ground truth of a simulation run, in the JSON contract of sample_pcaps/README.md (RFC 6275 §11.5-§11.7).

Two kinds of truth are built from the simulator's own records, never by reading the pcap back:
- `events`: what really happened, at the node that did it — the agent machines' `GroundTruth` actions
  and the network's L2 moves, each stamped with the simulated time it happened.
- `expected.<vantage>`: the report's timeline (issue 4) as that capture point saw it, from the record of
  every frame that crossed it (`net.Crossing`: time, direction, transmission id, sender, link).
The exact rules are written out in sample_pcaps/README.md ("How `expected` is computed"); this module is
their only implementation on the simulator side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import Any

from mipsniff.sim.clock import NS_PER_MS, NS_PER_US, epoch_seconds
from mipsniff.sim.net import Crossing, Network, TruthRecord
from mipsniff.sim.view import ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, MH_BA, MH_BU, PROTO_IPV6, PacketView

ACCEPTED_MAX = 127  # BA status < 128: accepted (RFC 6275 §6.1.8)
STATUS_SEQ_OUT_OF_WINDOW = 135


@dataclass(frozen=True, slots=True, kw_only=True)
class MobileNodeInfo:
    node: str  # simulator node name; also the name of its internal capture point
    home_address: IPv6Address
    home_agent: IPv6Address
    mac: str


def _t(t_ns: int | None) -> float | None:
    return None if t_ns is None else epoch_seconds(t_ns)


def _floor_us(t_ns: int) -> int:
    return t_ns - t_ns % NS_PER_US


def location(view: PacketView, home: IPv6Address, ha: IPv6Address) -> IPv6Address | None:
    """Where a data packet of the MN with home address `home` says the MN is: `home` for plain packets
    to/from the home address, the care-of address for tunnelled (outer address other than the HA's) or
    route-optimised (HAO/RH2) packets; None when the packet is not data of this MN."""
    if view.protocol == PROTO_IPV6 and view.inner is not None:
        inner = view.inner
        if not inner.is_data or home not in (inner.effective_src, inner.effective_dst):
            return None
        if view.dst == ha:
            return view.src
        if view.src == ha:
            return view.dst
        return None
    if not view.is_data:
        return None
    if view.hao == home:
        return view.src
    if view.rh2 == home:
        return view.dst
    if home in (view.src, view.dst):
        return home
    return None


def _data_view(view: PacketView) -> PacketView:
    return view.inner if view.protocol == PROTO_IPV6 and view.inner is not None else view


@dataclass(slots=True)
class _Handover:
    old: IPv6Address
    new: IPv6Address
    bus: list[TruthRecord]
    ba: TruthRecord | None  # the BA the MN received that concluded it


def _gts(net: Network, node: str, kind: str) -> list[TruthRecord]:
    return [r for r in net.truth if r.node == node and r.kind == kind]


def _handovers(net: Network, mn: MobileNodeInfo) -> list[_Handover]:
    """Registrations and deregistrations: BUs to the HA for a care-of address other than the current one.

    A BU for the same care-of address belongs to the open handover until a final BA (accepted, or
    rejected with a status other than 135, RFC 6275 §11.7.3) closes it; later ones are refreshes.
    """
    bus = [r for r in _gts(net, mn.node, "bu") if r.fields.get("peer") == mn.home_agent]
    bas = [r for r in _gts(net, mn.node, "ba") if r.fields.get("peer") == mn.home_agent]

    def closing(ho: _Handover, before_ns: int | None) -> TruthRecord | None:
        last = None
        for ba in bas:
            if ba.t_ns < ho.bus[0].t_ns or (before_ns is not None and ba.t_ns >= before_ns):
                continue
            if ba.fields.get("care_of_address", ho.new) != ho.new:
                continue
            last = ba
            if ba.fields.get("status") != STATUS_SEQ_OUT_OF_WINDOW:
                return ba
        return last

    out: list[_Handover] = []
    where = mn.home_address
    for bu in bus:
        coa = bu.fields["care_of_address"]
        assert isinstance(coa, IPv6Address)
        ho = out[-1] if out else None
        if ho is not None and coa == ho.new:
            done = closing(ho, bu.t_ns)
            if done is None or done.fields.get("status") == STATUS_SEQ_OUT_OF_WINDOW:
                ho.bus.append(bu)  # a retransmission, or the resend after a 135
            continue  # else a refresh
        if coa == where:
            continue
        out.append(_Handover(old=where, new=coa, bus=[bu], ba=None))
        where = coa
    for i, ho in enumerate(out):
        end = out[i + 1].bus[0].t_ns if i + 1 < len(out) else None
        ho.ba = closing(ho, end)
    return out


def _result(status: int | None) -> str:
    if status is None:
        return "incomplete"
    return "completed" if status <= ACCEPTED_MAX else "failed"


class _Vantage:
    """The crossings of one capture point, with the queries the rules need."""

    def __init__(self, crossings: list[Crossing]) -> None:
        self.crossings = crossings

    def first(self, pred: Any, lo: int = -1, hi: int | None = None) -> tuple[int, Crossing] | None:
        end = len(self.crossings) if hi is None else hi
        for i in range(lo + 1, end):
            if pred(self.crossings[i]):
                return i, self.crossings[i]
        return None

    def last(self, pred: Any, lo: int = -1, hi: int | None = None) -> tuple[int, Crossing] | None:
        end = len(self.crossings) if hi is None else hi
        for i in range(end - 1, lo, -1):
            if pred(self.crossings[i]):
                return i, self.crossings[i]
        return None


def _is_bu(c: Crossing, home: IPv6Address, seqs: set[int]) -> bool:
    v = c.view
    return v.mh_type == MH_BU and v.mh_seq in seqs and (v.hao == home or (v.hao is None and v.src == home))


def _is_final_ba(c: Crossing, home: IPv6Address, seqs: set[int]) -> bool:
    v = c.view
    return (v.mh_type == MH_BA and v.effective_dst == home and v.mh_seq in seqs
            and v.mh_status != STATUS_SEQ_OUT_OF_WINDOW)


def _gaps(seqs: Iterable[int], modulus: int) -> int:
    """Numbers skipped between consecutive sequence numbers (in capture order, modulo `modulus`)."""
    total = 0
    prev: int | None = None
    for s in seqs:
        if prev is not None:
            d = (s - prev) % modulus
            if 0 < d < modulus // 2:
                total += d - 1
        prev = s
    return total


def _expected(vt: _Vantage, mn: MobileNodeInfo, ho: _Handover, prev_bu_idx: int, next_bu_idx: int | None,
              new_link: str | None, old_link: str | None, routers: dict[str, str], l2_up_ns: int | None,
              mn_ra_rx: set[int]) -> dict[str, Any]:
    """The `expected` timeline of one handover at one vantage (rules: sample_pcaps/README.md)."""
    home, ha = mn.home_address, mn.home_agent
    seqs = {int(b.fields["seq"]) for b in ho.bus}  # type: ignore[call-overload]
    hi = next_bu_idx
    bu = vt.first(lambda c: _is_bu(c, home, seqs), prev_bu_idx, hi)
    bu_idx = bu[0] if bu else None
    # The BA that closes the handover at this vantage: the first BA for one of its BUs with a final
    # status (not 135, which the MN answers with a resend, RFC 6275 §11.7.3).
    ba = vt.first(lambda c: _is_final_ba(c, home, seqs), bu_idx, hi) if bu_idx is not None else None
    n_bu = sum(1 for c in vt.crossings[prev_bu_idx + 1 : ba[0] if ba else hi] if _is_bu(c, home, seqs))
    last_bu = vt.last(lambda c: _is_bu(c, home, seqs), prev_bu_idx, ba[0] if ba else hi)
    bu_seq = ba[1].view.mh_seq if ba else (last_bu[1].view.mh_seq if last_bu else None)
    ba_status = ba[1].view.mh_status if ba else None

    def loc(c: Crossing) -> IPv6Address | None:
        return location(c.view, home, ha)

    old_c = vt.last(lambda c: loc(c) == ho.old, -1, bu_idx if bu_idx is not None else hi)
    res_c = vt.first(lambda c: loc(c) == ho.new, bu_idx, hi) if bu_idx is not None else None
    t_last_old = old_c[1].t_ns if old_c else None
    t_resumed = res_c[1].t_ns if res_c else None
    lower_idx = old_c[0] if old_c else prev_bu_idx
    lower_t = vt.crossings[lower_idx].t_ns if lower_idx >= 0 else -1
    bu_hi = bu_idx if bu_idx is not None else hi

    # t_link_up: the first frame the MN itself put on the new link after joining it.
    link_up = None
    if l2_up_ns is not None and new_link is not None:
        link_up = vt.first(lambda c: c.sender == mn.node and c.link == new_link and c.t_ns >= l2_up_ns,
                           prev_bu_idx, None if bu_hi is None else bu_hi + 1)
    # t_dad: the DAD NS for the new address.
    dad = vt.first(lambda c: c.view.is_dad_ns and c.view.nd_target == ho.new, lower_idx, bu_hi)
    # t_movement_detected: first RA of the new link's router that reached the MN, after t_last_old, or the
    # expiry of the Advertisement Interval of the last RA of the old router that reached the MN.
    new_router = routers.get(new_link or "")
    old_router = routers.get(old_link or "")
    ra_new = vt.first(lambda c: c.view.icmp_type == 134 and c.sender == new_router and c.link == new_link
                      and c.tx_id in mn_ra_rx and c.t_ns > lower_t, lower_idx, bu_hi)
    t_md = ra_new[1].t_ns if ra_new else None
    # Only where the new link's RAs are seen (the MN's own vantage; the HA's when returning home) can the
    # movement be placed; elsewhere the phase is not observable and stays null.
    ra_old = None if ra_new is None else vt.last(lambda c: c.view.icmp_type == 134 and c.sender == old_router and c.link == old_link
                     and c.tx_id in mn_ra_rx, -1, ra_new[0] if ra_new else bu_hi)
    if ra_old is not None and ra_old[1].view.ra_adv_interval_ms is not None:
        expiry = _floor_us(ra_old[1].t_ns) + ra_old[1].view.ra_adv_interval_ms * NS_PER_MS
        bu_t = vt.crossings[bu_idx].t_ns if bu_idx is not None else None
        if expiry > lower_t and (t_md is None or expiry < _floor_us(t_md)) and (bu_t is None or expiry <= bu_t):
            t_md = expiry
    lost = _lost(vt, home, ha, old_c, res_c)
    return {
        "t_last_old": _t(t_last_old),
        "t_link_up": _t(link_up[1].t_ns) if link_up else None,
        "t_movement_detected": _t(t_md),
        "t_dad": _t(dad[1].t_ns) if dad else None,
        "t_bu": _t(bu[1].t_ns) if bu else None,
        "t_ba": _t(ba[1].t_ns) if ba else None,
        "t_resumed": _t(t_resumed),
        "bu_seq": bu_seq,
        "bu_retransmissions": n_bu - 1 if n_bu else None,
        "ba_status": ba_status,
        "result": _result(ba_status) if bu else None,
        "lost": lost,
    }


def _lost(vt: _Vantage, home: IPv6Address, ha: IPv6Address, a: tuple[int, Crossing] | None,
          b: tuple[int, Crossing] | None) -> dict[str, int | None]:
    if a is None or b is None:
        return {"echo_unsent": None, "echo_unanswered": None, "stream_missing": None}
    ta, tb = a[1].t_ns, b[1].t_ns
    requests: dict[int, list[tuple[int, int]]] = {}  # echo id -> [(t, seq)] first crossing of each
    replies: set[tuple[int, int]] = set()
    streams: dict[object, list[tuple[int, int, int]]] = {}  # stream -> [(t, seq, modulus)]
    seen_req: set[tuple[int, int]] = set()
    seen_stream: set[tuple[object, int]] = set()
    for c in vt.crossings:
        if location(c.view, home, ha) is None:
            continue
        d = _data_view(c.view)
        if d.icmp_type == ICMP_ECHO_REQUEST and d.effective_src == home and d.echo_id is not None:
            key = (d.echo_id, d.echo_seq or 0)
            if key not in seen_req:
                seen_req.add(key)
                requests.setdefault(d.echo_id, []).append((c.t_ns, d.echo_seq or 0))
        elif d.icmp_type == ICMP_ECHO_REPLY and d.effective_dst == home and d.echo_id is not None:
            replies.add((d.echo_id, d.echo_seq or 0))
        elif d.rtp_ssrc is not None and d.rtp_seq is not None:
            skey = ("rtp", d.rtp_ssrc)
            if (skey, d.rtp_seq) not in seen_stream:
                seen_stream.add((skey, d.rtp_seq))
                streams.setdefault(skey, []).append((c.t_ns, d.rtp_seq, 1 << 16))
        elif d.stream_seq is not None:
            skey2 = ("udp", d.stream_name)
            if (skey2, d.stream_seq) not in seen_stream:
                seen_stream.add((skey2, d.stream_seq))
                streams.setdefault(skey2, []).append((c.t_ns, d.stream_seq, 1 << 32))

    def windowed(items: list[tuple[int, int]]) -> list[int]:
        before = [s for t, s in items if t <= ta]
        inside = [s for t, s in items if ta < t < tb]
        after = [s for t, s in items if t >= tb]
        return before[-1:] + inside + after[:1]

    unsent = sum(_gaps(windowed(reqs), 1 << 16) for reqs in requests.values())
    unanswered = sum(1 for ident, reqs in requests.items() for t, s in reqs
                     if ta <= t <= tb and (ident, s) not in replies)
    missing = 0
    for items in streams.values():
        modulus = items[0][2]
        missing += _gaps(windowed([(t, s) for t, s, _ in items]), modulus)
    return {"echo_unsent": unsent, "echo_unanswered": unanswered, "stream_missing": missing}


def _first_gt(net: Network, node: str, kind: str, lo: int, hi: int, **match: object) -> TruthRecord | None:
    for r in net.truth:
        if r.node == node and r.kind == kind and lo <= r.t_ns <= hi and all(r.fields.get(k) == v
                                                                          for k, v in match.items()):
            return r
    return None


def _bindings(net: Network, mn: MobileNodeInfo) -> list[dict[str, Any]]:
    """One entry per BU/BA exchange as the MN lived it: the BUs for one care-of address (first send and
    retransmissions) up to the BA that answers one of them."""
    records = [r for r in net.truth if r.node == mn.node and r.kind in ("bu", "ba")
               and r.fields.get("peer") == mn.home_agent]
    out: list[dict[str, Any]] = []
    current: IPv6Address | None = None  # care-of address of the accepted binding
    run: list[TruthRecord] = []

    def close(ba: TruthRecord | None) -> None:
        nonlocal current
        first, last = run[0], run[-1]
        coa = first.fields["care_of_address"]
        dereg = first.fields.get("lifetime_s") == 0 or coa == mn.home_address
        kind = "deregistration" if dereg else ("refresh" if coa == current else "registration")
        status = int(ba.fields["status"]) if ba is not None else None  # type: ignore[call-overload]
        if status is not None and status <= ACCEPTED_MAX:
            current = None if dereg else coa  # type: ignore[assignment]
        out.append({
            "home_address": str(mn.home_address), "home_agent": str(mn.home_agent),
            "care_of_address": str(coa), "kind": kind,
            "seq": ba.fields["seq"] if ba is not None else last.fields["seq"],
            "lifetime_s": ba.fields["lifetime_s"] if ba is not None else last.fields["lifetime_s"],
            "status": status, "t_bu": _t(first.t_ns), "t_ba": _t(ba.t_ns) if ba is not None else None,
        })
        run.clear()

    for r in records:
        if r.kind == "bu":
            if run and r.fields["care_of_address"] != run[0].fields["care_of_address"]:
                close(None)
            run.append(r)
        elif run:
            close(r)
    if run:
        close(None)
    return out


def _data(net: Network) -> list[dict[str, Any]]:
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    order: list[tuple[str, int]] = []
    for r in net.truth:
        if r.kind not in ("data_generated", "data_sent", "data_unsent", "data_received"):
            continue
        key = (str(r.fields["flow"]), int(r.fields["seq"]))  # type: ignore[call-overload]
        row = rows.get(key)
        if row is None:
            if r.kind == "data_received":
                continue  # a reply to something we never saw generated
            row = rows[key] = {"flow": key[0], "seq": key[1], "t_sent": r.t_ns, "fate": "lost"}
            order.append(key)
        if r.kind in ("data_sent", "data_unsent"):
            row["t_sent"] = r.t_ns
        if r.kind == "data_unsent":
            row["fate"] = "unsent"
        elif r.kind == "data_received" and row["fate"] != "unsent":
            row["fate"] = "delivered"
    out = [rows[k] for k in order]
    out.sort(key=lambda row: (row["t_sent"], row["flow"], row["seq"]))
    for row in out:
        row["t_sent"] = _t(row["t_sent"])
    return out


def build_truth(*, scenario: str, seed: int, settings: dict[str, Any], vantages: list[str], net: Network,
                mobile_nodes: list[MobileNodeInfo], ha_node: str, routers: dict[str, str],
                vantage_nodes: dict[str, str] | None = None) -> dict[str, Any]:
    """The ground-truth document. `routers` maps a link name to the node that advertises on it;
    `vantage_nodes` maps a vantage name of `expected` ("mn", "ha") to the internal capture point used
    (default: "mn" is the first MN's interface, for every MN; "ha" the home agent's)."""
    by_vantage: dict[str, list[Crossing]] = {}
    for c in net.crossings:
        by_vantage.setdefault(c.vantage, []).append(c)
    handovers: list[dict[str, Any]] = []
    for mn in mobile_nodes:
        hos = _handovers(net, mn)
        ups = [e for e in net.sim_events if e.node == mn.node and e.kind == "l2_up"]
        downs = [e for e in net.sim_events if e.node == mn.node and e.kind == "l2_down"]
        mn_ra_rx = {c.tx_id for c in by_vantage.get(mn.node, []) if c.direction == "in" and c.view.icmp_type == 134}
        # "mn" is the capture point written as the mn vantage (the first MN's interface); "own" is this
        # MN's own interface, for the true `events` (not written).
        points = {"mn": mobile_nodes[0].node, "ha": ha_node, **(vantage_nodes or {}), "own": mn.node}
        vts = {name: _Vantage(by_vantage.get(cap, [])) for name, cap in points.items()}
        # First BU crossing of each handover at each vantage, to bound the searches.
        firsts: dict[str, list[int | None]] = {}
        for name, vt in vts.items():
            idxs: list[int | None] = []
            lo = -1
            for ho in hos:
                seqs = {int(b.fields["seq"]) for b in ho.bus}  # type: ignore[call-overload]
                hit = vt.first(lambda c, s=seqs, h=mn.home_address: _is_bu(c, h, s), lo)  # type: ignore[misc]
                idxs.append(hit[0] if hit else None)
                if hit:
                    lo = hit[0]
            firsts[name] = idxs
        for k, ho in enumerate(hos):
            t_first_bu = ho.bus[0].t_ns
            up = next((e for e in reversed(ups) if e.t_ns <= t_first_bu), None)
            prev_up = next((e for e in reversed(ups) if up is not None and e.t_ns < up.t_ns), None)
            down = next((e for e in reversed(downs) if up is not None and e.t_ns <= up.t_ns), None)
            new_link = str(up.fields["link"]) if up else None
            old_link = str(prev_up.fields["link"]) if prev_up else None
            lo_ns = hos[k - 1].bus[0].t_ns if k else 0
            l2_up_ns = up.t_ns if up else lo_ns
            expected: dict[str, Any] = {}
            for name, vt in vts.items():
                prev_idx = next((i for i in reversed(firsts[name][:k]) if i is not None), -1)
                next_idx = next((i for i in firsts[name][k + 1 :] if i is not None), None)
                expected[name] = _expected(vt, mn, ho, prev_idx, next_idx, new_link, old_link, routers,
                                           up.t_ns if up else None, mn_ra_rx)
            rs = _first_gt(net, mn.node, "rs", l2_up_ns, t_first_bu)
            ra = _first_gt(net, mn.node, "ra", l2_up_ns, t_first_bu)
            since = max(lo_ns, down.t_ns if down else 0)
            md = _first_gt(net, mn.node, "movement_detected", since, t_first_bu)
            lost_router = _first_gt(net, mn.node, "router_lost", since, t_first_bu)
            dad_s = _first_gt(net, mn.node, "dad_start", since, t_first_bu, address=ho.new)
            dad_e = _first_gt(net, mn.node, "dad_end", since, t_first_bu, address=ho.new)
            kind = ("home_to_foreign" if ho.old == mn.home_address else
                    "foreign_to_home" if ho.new == mn.home_address else "foreign_to_foreign")
            status = int(ho.ba.fields["status"]) if ho.ba is not None else None  # type: ignore[call-overload]
            handovers.append({
                "home_address": str(mn.home_address), "home_agent": str(mn.home_agent), "kind": kind,
                "old_coa": str(ho.old), "new_coa": str(ho.new), "result": _result(status),
                "events": {
                    "l2_down": _t(down.t_ns) if down else None,
                    "l2_up": _t(up.t_ns) if up else None,
                    "rs": _t(rs.t_ns) if rs else None,
                    "ra": _t(ra.t_ns) if ra else None,
                    "movement_detected": _t(md.t_ns) if md else None,
                    "movement_trigger": md.fields.get("trigger") if md else None,
                    "router_lost": _t(lost_router.t_ns) if lost_router else None,
                    "dad_start": _t(dad_s.t_ns) if dad_s else None,
                    "dad_end": _t(dad_e.t_ns) if dad_e else None,
                    "bu": [{"t": _t(b.t_ns), "seq": b.fields["seq"]} for b in ho.bus],
                    "ba": None if ho.ba is None else {"t": _t(ho.ba.t_ns), "status": status,
                                                      "seq": ho.ba.fields["seq"]},
                    "last_data_old": expected["own"]["t_last_old"],
                    "first_data_new": expected["own"]["t_resumed"],
                },
                "expected": {v: expected[v] for v in ("mn", "ha") if v in expected},
            })
    handovers.sort(key=lambda h: (h["events"]["bu"][0]["t"], h["home_address"]))
    return {
        "scenario": scenario, "seed": seed, "vantages": vantages, "settings": settings,
        "mobile_nodes": [{"home_address": str(m.home_address), "home_agent": str(m.home_agent), "mac": m.mac}
                         for m in mobile_nodes],
        "handovers": handovers,
        "bindings": [b for m in mobile_nodes for b in _bindings(net, m)],
        "data": _data(net),
    }
