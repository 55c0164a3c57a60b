"""Which frames the map step keeps: exactly those the single-process report reads.

The single-process report reads a capture through the byte-level prefilter (dissectors/prefilter.py):
every mobility-relevant frame (signalling, ND, echo, tunnels, HAO/RH2 packets) plus every frame from or
to a home address. Home addresses are learned from Binding Updates and Acknowledgements (RFC 6275
§6.1.7: the Home Address option, or the source of a BU sent at home; §6.1.8: the type 2 routing
header, or the destination of a BA sent at home) anywhere in the capture, so a file's map step cannot
know them all: a home address learned in file 7 makes plain data to it at home in file 3 relevant
("data to/from a home address at home", RFC 6275 §11.5.4). Hence two phases, both exact:

1. every file, in parallel: the frames the prefilter keeps without addresses, the home addresses its
   own BUs/BAs name, and the set of source/destination addresses of the IPv6 frames it dropped;
2. once the home addresses of all files are known: only the files whose dropped frames involve one of
   them are read again, with the prefilter holding those addresses (a superset of phase 1's frames).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any

FrameTuple = tuple[int, int, int, int, bytes]  # (index in its file, ts_ns, linktype, interface, data)

# Part of the intermediate files' cache key: bump it when the prefilter or the learning rule changes.
RELEVANCE_VERSION = "prefilter-2"


class _AddressRecorder:
    """Stands in for `Prefilter.addresses`: every lookup of a dropped IPv6 frame's source and
    destination answers "no" and records the address. Its 256 keys make the prefilter's last-byte
    shortcut pass, so every address is looked up."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    def __contains__(self, key: object) -> bool:
        self.seen.add(bytes(key))  # type: ignore[call-overload]
        return False

    def __iter__(self) -> Iterator[bytes]:
        return iter([bytes(15) + bytes([i]) for i in range(256)])

    def __bool__(self) -> bool:
        return True


def _prefilter(addresses: Iterable[bytes] | None) -> tuple[Any, _AddressRecorder | None]:
    from dissectors.prefilter import Prefilter

    if addresses is not None:
        return Prefilter(addresses), None
    pf = Prefilter()
    rec = _AddressRecorder()
    pf.addresses = rec  # type: ignore[assignment]
    return pf, rec


class _Phase1Filter:
    """Phase 1's frame filter: the single-process pass 1 (`HomeAddressScan`, which collects the home
    addresses of BUs/BAs from the bytes and rejects every frame) run on every frame, then the prefilter
    that decides what is kept. `needs_dissection` lists the link types the byte-level scan leaves to
    the dissector (802.11): their kept frames are dissected for home addresses instead."""

    def __init__(self, prefilter: Any) -> None:
        from mipsniff.report.pipeline import HomeAddressScan

        self.scan = HomeAddressScan()
        self.prefilter = prefilter
        self.needs_dissection: set[int] = set()

    def for_linktype(self, linktype: int) -> Any:
        keep = self.prefilter.for_linktype(linktype)
        learn = self.scan.for_linktype(linktype)
        if learn is None:
            self.needs_dissection.add(linktype)
            return keep
        if keep is None:
            return lambda buf, s, e: learn(buf, s, e) or True

        def both(buf: Any, s: int, e: int) -> bool:
            learn(buf, s, e)
            return keep(buf, s, e)

        return both


@dataclass(slots=True)
class ScanStats:
    """What a pass over one file learned besides the kept frames."""

    packets: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    link_types: tuple[int, ...] = ()
    format: str = ""
    interface_names: list[str | None] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dropped_addresses: set[bytes] = field(default_factory=set)
    home_addresses: set[bytes] = field(default_factory=set)


def scan(path: str, stats: ScanStats, addresses: Iterable[bytes] | None = None) -> Iterator[FrameTuple]:
    """The kept frames of one capture as (index, ts_ns, linktype, interface, data); `stats` is filled
    in when the iterator is exhausted.

    `addresses=None` is phase 1 (no address set; the dropped frames' addresses and the home addresses
    are recorded); otherwise phase 2 with those addresses.
    """
    from mipsniff.capture.reader import open_capture

    pf, rec = _prefilter(addresses)
    flt: Any = pf if addresses is not None else _Phase1Filter(pf)
    with open_capture(path) as rd:
        for fr in rd.iter_relevant(flt):
            data = bytes(fr.data)
            if addresses is None and fr.linktype in flt.needs_dissection:
                stats.home_addresses |= home_addresses(fr.linktype, data)
            yield fr.index, fr.ts_ns, fr.linktype, fr.interface, data
        stats.packets = rd.packets
        stats.first_ts_ns = rd.first_ts_ns
        stats.last_ts_ns = rd.last_ts_ns
        stats.link_types = tuple(rd.link_types)
        stats.format = rd.format
        stats.interface_names = [i.name for i in rd.interfaces]
        stats.warnings = [str(w) for w in rd.warnings]
    if rec is not None:
        stats.dropped_addresses = rec.seen
        stats.home_addresses |= flt.scan.found


def home_addresses(linktype: int, data: bytes) -> set[bytes]:
    """The home addresses one frame names, by the single-process report's own rule
    (mipsniff.report.pipeline.find_home_addresses): home-registration BUs and BAs."""
    from dissectors import dissect
    from mipsniff.correlate.observe import BaObs, BuObs, observe

    pkt = dissect(linktype, data)
    if pkt.mobility is None:
        return set()
    out: set[bytes] = set()
    for ob in observe(pkt, _never):
        if isinstance(ob, BuObs) and ob.home or isinstance(ob, BaObs):
            out.add(ob.hoa.packed)
    return out


def _never(_addr: IPv6Address) -> bool:
    return False


def pack_addresses(addrs: Iterable[bytes]) -> bytes:
    return b"".join(sorted(addrs))


def unpack_addresses(raw: bytes) -> set[bytes]:
    if len(raw) % 16:
        raise ValueError("address list is not a multiple of 16 bytes")
    return {raw[i : i + 16] for i in range(0, len(raw), 16)}
