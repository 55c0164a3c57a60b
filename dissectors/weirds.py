"""Weird records: malformed or protocol-violating input, named and kept (STYLE §4, after Zeek's weirds).

A dissector never raises on any bytes. Inside, a bounds-checked cursor raises `Truncated`; the entry
point turns it into a `Weird` attached to what was decoded so far. Weird names are `<proto>_<problem>`
and are stable once released.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Weird:
    """One anomaly: `name` is stable (`mh_bad_length`), `detail` is for humans, `layer` names the
    protocol module that found it and `offset` is the byte offset in the frame (-1 when not tied to
    a byte)."""

    name: str
    detail: str = ""
    layer: str = ""
    offset: int = -1


class Truncated(Exception):
    """Private to the dissectors: raised by the cursor when a read would pass the end of the data."""

    def __init__(self, layer: str, offset: int, wanted: int, have: int) -> None:
        super().__init__(f"{layer}: wanted {wanted} bytes at offset {offset}, {have} left")
        self.layer = layer
        self.offset = offset
        self.wanted = wanted
        self.have = have

    def as_weird(self) -> Weird:
        return Weird(
            name=f"{self.layer}_truncated",
            detail=f"wanted {self.wanted} bytes at offset {self.offset}, {self.have} left",
            layer=self.layer,
            offset=self.offset,
        )
