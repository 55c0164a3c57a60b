"""The report pipeline: a capture file in, a `Report` out (RFC 6275 handovers, see mipsniff.correlate).

    path --pass 1: Mobility Header frames only--> home addresses (BU HAO / BA RH2 / dereg source)
         --pass 2: Prefilter(mobility-relevant or to/from a home address)--> dissect --> Correlator
         --> Report (capture summary + Correlation)

The first pass reads only the frame headers plus a few bytes of each frame (a byte-level test for a
Mobility Header in the extension chain) so the second pass can keep the plain data of home addresses
(a mobile node at home before its first BU) while rejecting unrelated traffic before any record is built.
The CLI (`mipsniff report`), the live command and the Python API (`build_report`) all call `analyze`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any

from dissectors import dissect
from dissectors.prefilter import RELEVANT_ICMPV6_TYPES, RELEVANT_NEXT_HEADERS, Prefilter
from mipsniff.capture import Frame, open_capture
from mipsniff.capture.reader import FramePredicate, Interface
from mipsniff.correlate import Correlation, Correlator, CorrelatorConfig, Vantage
from mipsniff.correlate.observe import BaObs, BuObs, fast_echo, observe

Progress = Callable[[int, int], None]  # (frames read so far, bytes of the file) -> None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureInfo:
    """What was read: `packets` counts every frame; `start_ns` / `end_ns` the first and last timestamps."""

    path: str
    packets: int
    start_ns: int | None
    end_ns: int | None
    link_types: tuple[int, ...]
    format: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """A capture's report: the capture summary and everything the correlator found."""

    capture: CaptureInfo
    correlation: Correlation
    vantage: Vantage = Vantage.AUTO
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from mipsniff.report.export import report_dict

        return report_dict(self)


# --- pass 1: the home addresses of the capture ----------------------------------------------------

_EXT = frozenset((0, 43, 44, 51, 60))  # Hop-by-Hop, Routing, Fragment, AH, Destination Options
_FIXED = {113: 16, 276: 20, 101: 0, 12: 0, 14: 0, 229: 0, 0: 4, 108: 4}


def _home_address_at(buf: Any, o: int, end: int, found: set[bytes]) -> None:
    """If the IPv6 packet at `buf[o:end]` is a home Binding Update or a Binding Acknowledgement, add the
    home address it names to `found` (16 raw bytes): the HAO of a BU (RFC 6275 §6.3), or its source for
    a deregistration sent at home without one (§11.5.4); the type 2 routing header of a BA (§6.4), or its
    destination. Reads a few bytes of the extension chain; builds no record."""
    if end - o < 40 or buf[o] >> 4 != 6:
        return
    nh = buf[o + 6]
    pos = o + 40
    hao = rh2 = None
    for _ in range(8):
        if nh == 135:
            if pos + 10 > end:
                return
            mh_type = buf[pos + 2]
            if mh_type == 5 and buf[pos + 8] & 0x40:  # BU with the H (home registration) flag
                found.add(bytes(hao if hao is not None else buf[o + 8 : o + 24]))
            elif mh_type == 6:
                found.add(bytes(rh2 if rh2 is not None else buf[o + 24 : o + 40]))
            return
        if nh not in _EXT or pos + 2 > end:
            return
        if nh == 44:
            nxt, length = buf[pos], 8
        elif nh == 51:
            nxt, length = buf[pos], (buf[pos + 1] + 2) * 4
        else:
            nxt, length = buf[pos], (buf[pos + 1] + 1) * 8
            if pos + length > end:
                return
            if nh == 60:
                q = pos + 2
                while q + 2 <= pos + length:
                    ot = buf[q]
                    if ot == 0:
                        q += 1
                        continue
                    ol = buf[q + 1]
                    if ot == 201 and ol == 16 and q + 18 <= pos + length:
                        hao = buf[q + 2 : q + 18]
                    q += 2 + ol
            elif nh == 43 and buf[pos + 2] == 2 and length >= 24:
                rh2 = buf[pos + 8 : pos + 24]
        nh, pos = nxt, pos + length


class HomeAddressScan:
    """Pass 1's prefilter: rejects every frame, collecting on the way the home addresses named by home
    BUs and BAs (`found`, 16-byte keys)."""

    def __init__(self) -> None:
        self.found: set[bytes] = set()

    def for_linktype(self, linktype: int) -> FramePredicate | None:
        found = self.found
        if linktype == 1:
            def ethernet(buf: Any, s: int, e: int) -> bool:
                if e - s < 54:
                    return False
                hi = buf[s + 12]
                if hi == 0x86 and buf[s + 13] == 0xDD:
                    if buf[s + 20] in _MH_CHAIN:
                        _home_address_at(buf, s + 14, e, found)
                elif hi in (0x81, 0x88) and buf[s + 16] == 0x86 and buf[s + 17] == 0xDD:
                    _home_address_at(buf, s + 18, e, found)
                return False
            return ethernet
        off = _FIXED.get(linktype)
        if off is not None:
            def fixed(buf: Any, s: int, e: int) -> bool:
                if e - s > off + 40 and buf[s + off + 6] in _MH_CHAIN:
                    _home_address_at(buf, s + off, e, found)
                return False
            return fixed
        return None  # other links (802.11): decided after dissection in find_home_addresses


_MH_CHAIN = frozenset((135, *_EXT))


def find_home_addresses_forked(path: str | os.PathLike[str]) -> set[IPv6Address]:
    """`find_home_addresses` in a forked child, so this process never maps the file's pages (its memory
    stays small for the background reader of pass 2). Falls back to the in-process pass."""
    if not hasattr(os, "fork"):
        return find_home_addresses(path)
    import pickle
    import sys

    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the pass, send the result, exit without running the parent's cleanup
        code = 0
        try:
            os.close(rfd)
            try:
                payload = pickle.dumps(("ok", sorted(int(a) for a in find_home_addresses(path))))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent to re-raise
                payload = pickle.dumps(("error", exc))
            with os.fdopen(wfd, "wb") as out:
                out.write(payload)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            sys.stdout.flush()
            os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    if not data:
        return find_home_addresses(path)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return {IPv6Address(a) for a in value}


def find_home_addresses(path: str | os.PathLike[str]) -> set[IPv6Address]:
    """Pass 1: the home addresses named by home-registration BUs and by BAs in the capture."""
    scan = HomeAddressScan()
    found: set[IPv6Address] = set()
    with open_capture(path) as reader:
        for frame in reader.iter_relevant(scan):  # only frames of links without a byte-level scan
            pkt = dissect(frame.linktype, frame.data)
            if pkt.mobility is None:
                continue
            for ob in observe(pkt, lambda a: False):
                if isinstance(ob, BuObs) and ob.home or isinstance(ob, BaObs):
                    found.add(ob.hoa)
    return found | {IPv6Address(k) for k in scan.found}


def vantage_interface(interfaces: list[Interface], vantage: Vantage) -> int | None:
    """The index of the interface named after `vantage` (auto: `mn`), when interfaces are so named."""
    names = [i.name for i in interfaces]
    if not {"mn", "ha"} & set(n for n in names if n):
        return None
    want = "mn" if vantage == Vantage.AUTO else vantage.value
    return names.index(want) if want in names else None


def _vantage(v: Vantage | str) -> Vantage:
    return v if isinstance(v, Vantage) else Vantage(str(v))


MAX_RESTARTS = 3


class DynamicHomeFilter:
    """The one-pass prefilter: mobility-relevant frames (dissectors.prefilter) plus frames from or to a
    home address learnt so far (`add`), and a 16-bit hash of the addresses of every other IPv6 frame
    (`touched`), so that afterwards one can tell whether a home address learnt mid-capture had traffic
    before it was learnt. Frames whose IPv6 header it does not look at (VLAN tags) set `uncertain`."""

    def __init__(self, homes: Iterable[IPv6Address]) -> None:
        self.homes: set[bytes] = {h.packed for h in homes}
        self.last: set[int] = {k[15] for k in self.homes}
        self.touched = bytearray(1 << 16)
        self.flags = [False]  # [uncertain]
        self._base = Prefilter()

    @property
    def uncertain(self) -> bool:
        return self.flags[0]

    def add(self, home: IPv6Address) -> None:
        k = home.packed
        self.homes.add(k)
        self.last.add(k[15])

    def seen_before(self, home: IPv6Address) -> bool:
        k = home.packed
        return bool(self.touched[k[14] << 8 | k[15]])

    def for_linktype(self, linktype: int) -> FramePredicate | None:
        base = self._base.for_linktype(linktype)
        homes, last, touched, flags = self.homes, self.last, self.touched, self.flags
        off = 14 if linktype == 1 else _FIXED.get(linktype)
        if off is None:
            flags[0] = True
            return None  # keep every frame of a link type without a byte-level address check

        def pred(buf: Any, s: int, e: int) -> bool:
            if base(buf, s, e):
                return True
            o = s + off
            if e - o < 40:
                return False
            if off == 14 and (buf[s + 12] != 0x86 or buf[s + 13] != 0xDD):
                if buf[s + 12] in (0x81, 0x88, 0x91):
                    flags[0] = True
                return False
            if buf[o] >> 4 != 6:
                return False
            if (buf[o + 23] in last and buf[o + 8 : o + 24] in homes) or (
                buf[o + 39] in last and buf[o + 24 : o + 40] in homes
            ):
                return True
            touched[buf[o + 22] << 8 | buf[o + 23]] = 1
            touched[buf[o + 38] << 8 | buf[o + 39]] = 1
            return False

        if linktype != 1:
            return pred
        rel_types, rel_next = RELEVANT_ICMPV6_TYPES, RELEVANT_NEXT_HEADERS

        def ethernet(buf: Any, s: int, e: int) -> bool:
            # The same answer as `pred`, in one call for the common case (an untagged IPv6 frame with
            # room for an ICMPv6 type byte): the prefilter's inline test, then the address test.
            if e - s <= 54 or buf[s + 12] != 0x86 or buf[s + 13] != 0xDD:
                # Not IPv6 (IPv4, ARP: False at once) or short or tagged: the general test.
                if e - s > 54 and buf[s + 12] == 0x08:
                    return False
                return pred(buf, s, e)
            nh = buf[s + 20]
            if nh == 58:
                if buf[s + 54] in rel_types:
                    return True
            elif nh in rel_next:
                return True
            elif (nh == 0 or nh == 44 or nh == 51) and base(buf, s, e):
                return True
            o = s + 14
            if buf[o] >> 4 != 6:
                return False
            if (buf[o + 23] in last and buf[o + 8 : o + 24] in homes) or (
                buf[o + 39] in last and buf[o + 24 : o + 40] in homes
            ):
                return True
            touched[buf[o + 22] << 8 | buf[o + 23]] = 1
            touched[buf[o + 38] << 8 | buf[o + 39]] = 1
            return False

        return ethernet


def analyze(
    path: str | os.PathLike[str],
    *,
    vantage: Vantage | str = Vantage.AUTO,
    config: CorrelatorConfig | None = None,
    home_addresses: Iterable[IPv6Address | str] = (),
    progress: Progress | None = None,
    interface: int | None = None,
    background: bool | None = False,
    passes: int | None = None,
    _restarts: int = 0,
) -> Report:
    """Read the capture at `path` (pcap/pcapng, gzip or not) and correlate its handovers.

    `passes`: 2 reads the file twice (pass 1 collects the home addresses, so the traffic of an MN at
    home before its first BU is kept); None (default) reads it once with a filter that learns home
    addresses as it goes, and starts again knowing a home address when one learnt mid-capture turns out
    to have had traffic before (at most `MAX_RESTARTS` times, then two passes) — so the result is always
    the two-pass one, and the cost of a restart is the frames up to that address's first BU or BA.
    `interface` keeps only one pcapng interface; by default a pcapng whose interfaces are named after
    vantage points (`mn`, `ha`, as `mipsniff synth --vantage both` writes) is read at the requested one
    (`mn` for auto), since the same packet crossing two capture points must not count twice.
    `background` (None: by file size) walks the file in a forked child while this process dissects
    (mipsniff.capture.background; implies two passes): faster on two idle CPUs, but the two processes'
    memory adds up. Raises `UserError` (one line) when the file is missing or not a capture."""
    v = _vantage(vantage)
    cfg = config or CorrelatorConfig(vantage=v)
    if cfg.vantage != v:
        from dataclasses import replace

        cfg = replace(cfg, vantage=v)
    hints = {IPv6Address(a) for a in home_addresses}
    one_pass = passes is None and background is False
    if one_pass:
        dyn: DynamicHomeFilter | None = DynamicHomeFilter(hints)
        hoas = set(hints)
    else:
        dyn = None
        pass1 = find_home_addresses_forked if background is not False else find_home_addresses
        hoas = hints | pass1(path)
    corr = Correlator(cfg, hoas)
    if dyn is not None:
        corr.unclaimed = set()
    size = os.path.getsize(path)
    with open_capture(path) as reader:
        frames = reader.iter_relevant(dyn if dyn is not None else Prefilter(hoas), background=background)
        n = 0
        only = interface
        is_home = corr.is_home
        unclaimed = corr.unclaimed
        known = corr.mobile_node_count
        dyn_known = set(corr.home_addresses)
        restart = False
        for frame in frames:
            if only is None and n == 0 and len(reader.interfaces) > 1:
                only = vantage_interface(reader.interfaces, v)
            if only is not None and frame.interface != only:
                continue
            fast = fast_echo(frame.linktype, frame.data, is_home, unclaimed)
            if fast is not None:  # an echo frame: its few fields read straight from the bytes
                corr.feed_observations(frame.index, frame.ts_ns, *fast)
            else:
                corr.feed(frame.index, frame.ts_ns, dissect(frame.linktype, frame.data), frame.data)
            if dyn is not None and corr.mobile_node_count != known:
                known = corr.mobile_node_count
                new = corr.home_addresses - dyn_known
                if dyn.uncertain or any(dyn.seen_before(h) for h in new) or (new & (unclaimed or set())):
                    # A home address had traffic before this frame named it: start again knowing it (the
                    # frames read so far, up to its first BU/BA, are read twice; the rest once).
                    restart = True
                    break
                for h in new:
                    dyn.add(h)
                dyn_known |= new
            n += 1
            if progress is not None and n % 2048 == 0:
                progress(frame.index, size)
        if progress is not None:
            progress(reader.packets, size)
        if dyn is not None and (restart or dyn.uncertain):
            restarts = _restarts + 1
            if restarts > MAX_RESTARTS or dyn.uncertain:
                return analyze(path, vantage=v, config=cfg, home_addresses=hints, progress=progress,
                               interface=interface, background=background, passes=2)
            return analyze(path, vantage=v, config=cfg, home_addresses=corr.home_addresses, progress=progress,
                           interface=interface, background=background, _restarts=restarts)
        result = corr.finish(reader.last_ts_ns)
        info = CaptureInfo(
            path=os.fspath(path),
            packets=reader.packets,
            start_ns=reader.first_ts_ns,
            end_ns=reader.last_ts_ns,
            link_types=reader.link_types,
            format=reader.format,
            warnings=tuple(str(w) for w in reader.warnings),
        )
    return Report(capture=info, correlation=result, vantage=v, extra={"passes": 1 if dyn is not None else 2})


def analyze_frames(
    frames: Iterable[Frame],
    capture: CaptureInfo,
    *,
    vantage: Vantage | str = Vantage.AUTO,
    home_addresses: Iterable[IPv6Address | str] = (),
) -> Report:
    """The same correlation over frames already read (multi-file merge, live capture buffers)."""
    v = _vantage(vantage)
    corr = Correlator(CorrelatorConfig(vantage=v), home_addresses)
    for frame in frames:
        corr.feed(frame.index, frame.ts_ns, dissect(frame.linktype, frame.data), frame.data)
    return Report(capture=capture, correlation=corr.finish(capture.end_ns), vantage=v)


def build_report(path: str | os.PathLike[str], *, vantage: Vantage | str = "auto") -> Report:
    """Python API: `build_report("x.pcap").to_dict()` is `mipsniff report --json`'s document."""
    return analyze(path, vantage=vantage)


def iter_frames(path: str | os.PathLike[str]) -> Iterator[Frame]:
    with open_capture(path) as reader:
        yield from reader
