"""The partitioned reduce: the merged frame stream correlated per mobile node, in parallel (RFC 6275 §9-§11).

The correlator (mipsniff.correlate.machine) keys MNs by home address, but one MN's result depends on
more than its own packets, and the partitioned run reproduces each of those couplings exactly:

- link-wide evidence: RAs, RSs, DAD NSs (RFC 4861 §6, RFC 4862 §5.4) and 802.11 management frames name
  no home address and serve every MN on the link (movement detection, link-up, router loss), and the
  number of routers seen decides the `auto` vantage: every partition is fed them;
- which address is a home address (`observe` picks the home address of a data packet, the source
  first): every partition is fed every Mobility Header frame, and the BUs/BAs of other partitions' MNs
  still make their address a home address (`Correlator(owns=...)`);
- time: timers fire, histories are pruned and idle MNs expire on the timestamps of whatever frame
  comes next, and an MN is credited with every frame sent from its MAC address, whatever it carries.
  So every partition walks every frame; a frame that cannot concern its MNs is fed as
  `feed_observations(index, ts, (), src_mac, None)`, without being dissected — this is what is saved;
- the MAC table: a MAC address belongs to the last MN that learnt it. If MNs of two partitions learn
  the same MAC (say, a router's, at some capture points), the partitions would credit frames
  differently, so those MNs are put in one partition and the reduce runs again.

Routing (`candidates`): on Ethernet, Linux cooked (v1, v2) or raw IP links, plain or IPv6-in-IPv6
(RFC 2473) IPv6 carrying UDP, TCP or an ICMPv6 echo can only be data of the home address in its
(inner) source or destination (observe._data); such a frame is dissected by the partitions owning one
of those addresses if it is a home address. Every other frame (other link types, VLAN tags, extension
headers — a HAO or RH2 — mobility signalling, ND, ICMPv6 errors, short frames) is dissected by every
partition.

Merge: mobile nodes by first frame, bindings and handovers by `t_bu` (handover ids renumbered), as
`Correlator.result` sorts them; weirds and packet records in frame order, those naming no home address
taken from partition 0 only (every partition saw them).
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from ipaddress import IPv6Address
from typing import Any

from dissectors import dissect
from mipsniff.correlate import Correlation, Correlator, CorrelatorConfig, Vantage
from mipsniff.correlate.observe import fast_echo
from mipsniff.multi.files import FileSummary

_TRANSPORT = frozenset((6, 17))  # TCP, UDP


# Link types whose IPv6 header sits at a fixed offset: Ethernet (ethertype at 12), Linux cooked v1
# (protocol at 14) and v2 (protocol at 0), raw IP (the version nibble says IPv6). Others (802.11,
# loopback with its platform-dependent family values, ...) go to every partition.
_LINKS: dict[int, tuple[int, int | None]] = {1: (14, 12), 113: (16, 14), 276: (20, 0), 101: (0, None),
                                             12: (0, None), 14: (0, None), 229: (0, None)}


def _src_mac(linktype: int, data: bytes) -> str | None:
    """The link source address exactly as `dissectors.link` gives it (`LinkLayer.src_mac`)."""
    if linktype == 1:
        return data[6:12].hex(":")
    if linktype == 113:
        return data[6:12].hex(":") if data[4:6] == b"\x00\x06" else None
    if linktype == 276:
        return data[12:18].hex(":") if data[11] == 6 else None
    return None


def candidates(linktype: int, data: bytes) -> tuple[bytes, bytes, str | None] | None:
    """The two addresses (16 raw bytes each) whose data a frame can be, and its link source address;
    or None when the frame must go to every partition (see the module docstring)."""
    link = _LINKS.get(linktype)
    if link is None:
        return None
    o, proto = link
    n = len(data)
    if n < o + 41 or data[o] >> 4 != 6 or proto is not None and data[proto:proto + 2] != b"\x86\xdd":
        return None
    nh = data[o + 6]
    if nh == 41:  # IPv6 in IPv6: the inner header names the home address (RFC 2473, RFC 6275 §10.4.2)
        i = o + 40
        if n < i + 41 or data[i] >> 4 != 6:
            return None
        inh = data[i + 6]
        if inh in _TRANSPORT or inh == 58 and data[i + 40] in (128, 129):
            return data[i + 8:i + 24], data[i + 24:i + 40], _src_mac(linktype, data)
        return None
    if nh in _TRANSPORT or nh == 58 and data[o + 40] in (128, 129):
        return data[o + 8:o + 24], data[o + 24:o + 40], _src_mac(linktype, data)
    return None


def owner_of(addr: bytes, owners: dict[bytes, int], partitions: int) -> int:
    """The partition of a home address: the assignment, else a stable hash (an address that becomes a
    home address only mid-capture, by a BU to a correspondent node)."""
    p = owners.get(addr)
    return p if p is not None else zlib.crc32(addr) % partitions


def assign(home_addresses: Iterable[IPv6Address], partitions: int,
           groups: Sequence[frozenset[IPv6Address]] = ()) -> dict[bytes, int]:
    """Home addresses -> partition, round robin in address order; each of `groups` (MNs that must share
    a partition) goes, whole, to the partition with the fewest addresses so far."""
    load = [0] * partitions
    out: dict[bytes, int] = {}
    grouped: set[IPv6Address] = set()
    for g in sorted(groups, key=lambda g: (-len(g), sorted(g))):
        p = min(range(partitions), key=lambda i: (load[i], i))
        for a in g:
            out[a.packed] = p
        load[p] += len(g)
        grouped |= g
    for a in sorted(set(home_addresses) - grouped):
        p = min(range(partitions), key=lambda i: (load[i], i))
        out[a.packed] = p
        load[p] += 1
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionTask:
    """One partition's reduce, picklable for any engine."""

    files: tuple[FileSummary, ...]
    vantage: Vantage
    home_addresses: tuple[IPv6Address, ...]
    owners: dict[bytes, int]
    partitions: int
    index: int
    end_ns: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionResult:
    index: int
    correlation: Correlation
    frames: int  # frames walked
    dissected: int  # frames dissected (the rest fed as time and MAC only)
    cpu_s: float
    pid: int  # the process that ran it


def reduce_partition(task: PartitionTask) -> PartitionResult:
    """Correlate the MNs of one partition over the whole merged stream (runs in a worker)."""
    from mipsniff.multi.pipeline import merged_frames

    c0 = time.process_time()
    owners, n, me = task.owners, task.partitions, task.index

    def owns(a: IPv6Address) -> bool:
        return owner_of(a.packed, owners, n) == me

    corr = Correlator(CorrelatorConfig(vantage=task.vantage), task.home_addresses, owns=owns)
    is_home = corr.is_home
    mine = {a for a, p in owners.items() if p == me}
    known = len(corr.home_addresses)
    walked = dissected = 0
    for frame in merged_frames(task.files, task.vantage):
        walked += 1
        data = frame.data
        cand = candidates(frame.linktype, data)
        if cand is not None and cand[0] not in mine and cand[1] not in mine:
            # Not this partition's data: only its time and its sender count here.
            corr.feed_observations(frame.index, frame.ts_ns, (), cand[2], None)
            continue
        dissected += 1
        fast = fast_echo(frame.linktype, data, is_home)
        if fast is not None:
            corr.feed_observations(frame.index, frame.ts_ns, *fast)
        else:
            corr.feed(frame.index, frame.ts_ns, dissect(frame.linktype, data), data)
        if cand is None:
            homes = corr.home_addresses
            if len(homes) != known:  # a BU to a correspondent node named a new home address
                known = len(homes)
                mine = {a.packed for a in homes if owns(a)} | mine
    return PartitionResult(index=me, correlation=corr.finish(task.end_ns), frames=walked,
                           dissected=dissected, cpu_s=time.process_time() - c0, pid=os.getpid())


def shared_macs(results: Sequence[PartitionResult]) -> list[frozenset[IPv6Address]]:
    """Groups of MNs of different partitions that learnt the same MAC address (to be put together)."""
    by_mac: dict[str, set[tuple[int, IPv6Address]]] = {}
    for r in results:
        for m in r.correlation.mobile_nodes:
            if m.mac is not None:
                by_mac.setdefault(m.mac, set()).add((r.index, m.home_address))
    groups: list[set[IPv6Address]] = []
    for members in by_mac.values():
        if len({p for p, _ in members}) > 1:
            g = {a for _, a in members}
            for other in [o for o in groups if o & g]:
                groups.remove(other)
                g |= other
            groups.append(g)
    return [frozenset(g) for g in groups]


def merge(results: Sequence[PartitionResult]) -> Correlation:
    """One Correlation from the partitions', ordered as `Correlator.result` orders a single run's."""
    parts = sorted(results, key=lambda r: r.index)
    corrs = [r.correlation for r in parts]
    mns = sorted((m for c in corrs for m in c.mobile_nodes), key=lambda m: (m.first_frame, str(m.home_address)))
    bindings = sorted((b for c in corrs for b in c.bindings), key=lambda b: (b.t_bu, str(b.home_address)))
    hos = sorted((h for c in corrs for h in c.handovers), key=lambda h: (h.t_bu, str(h.home_address)))
    weirds = sorted(
        (w for i, c in enumerate(corrs) for w in c.weirds if w.home_address is not None or i == 0),
        key=lambda w: w.frame,
    )
    packets = sorted(
        (p for i, c in enumerate(corrs) for p in c.packets if p.home_address is not None or i == 0),
        key=lambda p: p.frame,
    )
    return Correlation(
        mobile_nodes=tuple(mns),
        bindings=tuple(bindings),
        handovers=tuple(replace(h, id=i) for i, h in enumerate(hos, 1)),
        weirds=tuple(weirds),
        packets=tuple(packets),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReduceStats:
    partitions: int
    rounds: int  # 1, or more when MNs sharing a MAC had to be regrouped
    frames: int
    dissected: int  # summed over partitions
    cpu_s: float  # summed over partitions
    cpu_elsewhere_s: float  # of that, in other processes (workers)
    partition_cpu_s: tuple[float, ...] = ()  # each partition's (the longest bounds the wall time on idle cores)


def partitioned_correlation(
    files: Sequence[FileSummary],
    *,
    vantage: Vantage,
    home_addresses: Sequence[IPv6Address],
    end_ns: int | None,
    partitions: int,
    workers: int | None = None,
    client: Any = None,
    retries: int = 2,
) -> tuple[Correlation, ReduceStats]:
    """Correlate `files` (ordered, as `merged_frames` reads them) in `partitions` parallel partitions on
    the local pool (`workers`) or the Dask `client`; the same Correlation as one Correlator."""
    from mipsniff.multi.engine import run_tasks

    groups: list[frozenset[IPv6Address]] = []
    rounds = 0
    while True:
        rounds += 1
        owners = assign(home_addresses, partitions, groups)
        tasks = [
            PartitionTask(files=tuple(files), vantage=vantage, home_addresses=tuple(home_addresses),
                          owners=owners, partitions=partitions, index=i, end_ns=end_ns)
            for i in range(partitions)
        ]
        results: list[PartitionResult] = run_tasks(
            reduce_partition, tasks, workers=workers, client=client, retries=retries, label="reduce"
        )
        shared = shared_macs(results)
        if not shared:
            break
        # Merge the new groups with the old ones they touch, and run again.
        for g in shared:
            for old in [o for o in groups if o & g]:
                groups.remove(old)
                g = g | old
            groups.append(g)
    stats = ReduceStats(
        partitions=partitions, rounds=rounds, frames=results[0].frames if results else 0,
        dissected=sum(r.dissected for r in results), cpu_s=sum(r.cpu_s for r in results),
        cpu_elsewhere_s=sum(r.cpu_s for r in results if r.pid != os.getpid()),
        partition_cpu_s=tuple(r.cpu_s for r in sorted(results, key=lambda r: r.index)),
    )
    return merge(results), stats
