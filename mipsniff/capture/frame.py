"""The frame record every capture source yields: one link-layer frame with its timestamp."""

from __future__ import annotations

from dataclasses import dataclass

from dissectors._wire import fast_init


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One captured frame. `index` is 1-based like Wireshark's frame number; `ts_ns` is the capture
    timestamp in integer nanoseconds since the epoch; `linktype` is the pcap LINKTYPE_* of the
    interface it was captured on; `orig_len` is the length on the wire (None when the source does not
    say, i.e. the same as `len(data)`); `interface` the pcapng interface index (0 for pcap);
    `comment` the pcapng opt_comment of the packet, if any."""

    index: int
    ts_ns: int
    linktype: int
    data: bytes
    orig_len: int | None = None
    interface: int = 0
    comment: str | None = None

    @property
    def wire_len(self) -> int:
        """Length on the wire: `orig_len` when known, else the captured length."""
        return self.orig_len if self.orig_len is not None else len(self.data)

    @property
    def truncated(self) -> bool:
        """True when the capture kept fewer bytes than were on the wire (snaplen)."""
        return self.orig_len is not None and self.orig_len > len(self.data)


# One Frame per kept frame (twice when the walk runs in a background child): the faster `__init__`
# the dissectors give their records, same signature, still frozen.
fast_init(Frame)
