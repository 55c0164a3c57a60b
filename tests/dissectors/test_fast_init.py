"""`_wire.fast_init`: the faster `__init__` of the frozen records keeps their signature and behaviour."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from ipaddress import IPv6Address

import pytest

import dissectors
from dissectors._wire import Ctx, fast_init
from dissectors.ipv6 import IPv6
from dissectors.mobility import BindingUpdate


def _records() -> list[type]:
    out = []
    for name, module in sorted(sys.modules.items()):
        if name.startswith("dissectors.") and module is not None:
            out += [o for o in vars(module).values()
                    if isinstance(o, type) and o.__module__ == name and dataclasses.is_dataclass(o)]
    return out


def test_every_frozen_record_is_sped_up_with_its_own_signature() -> None:
    assert "dissectors.nd" in sys.modules and dissectors.__name__ == "dissectors"  # every record module loaded
    records = _records()
    assert len(records) > 90
    for cls in records:
        names = vars(cls)["__init__"].__code__.co_names
        if cls is Ctx:  # mutable per-dissection state, not a record: left alone
            assert not any(n.startswith("_set_") for n in names)
            continue
        assert any(n.startswith("_set_") for n in names), cls
        params = inspect.signature(cls).parameters
        fields = dataclasses.fields(cls)
        assert [p.name for p in params.values()] == [f.name for f in fields], cls
        for p, f in zip(params.values(), fields, strict=True):
            assert p.kind is inspect.Parameter.KEYWORD_ONLY
            assert p.default == (inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default)


def test_same_object_as_the_dataclass_init() -> None:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Base:
        a: int
        b: tuple[int, ...] = ()

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Rec(Base):
        c: str | None = None

    before = Rec(a=1, c="x")
    assert fast_init(Rec)
    after = Rec(a=1, c="x")
    assert after == before and hash(after) == hash(before) and repr(after) == repr(before)
    assert Rec(a=2) == Rec(a=2, b=(), c=None)
    assert dataclasses.replace(after, a=5).a == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.a = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        Rec(1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Rec(b=())  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Rec(a=1, d=2)  # type: ignore[call-arg]


def test_classes_it_cannot_mirror_keep_their_init() -> None:
    @dataclasses.dataclass(slots=True, kw_only=True)
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Post:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Positional:
        a: int

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class NoSlots:
        a: int

    for cls in (Mutable, Factory, Post, Positional, NoSlots, int):
        init = cls.__init__
        assert not fast_init(cls)
        assert cls.__init__ is init


def test_dissected_records_equal_hand_built_ones() -> None:
    a = IPv6Address("2001:db8::1")
    ip = IPv6(src=a, dst=a, traffic_class=0, flow_label=0, payload_length=0, hop_limit=64, next_header=59,
              extensions=(), home_address=None, routing_home_address=None, fragment=None, protocol=59,
              payload=None, offset=0)
    assert ip.home_address is None and ip.src is a
    with pytest.raises(dataclasses.FrozenInstanceError):
        ip.hop_limit = 1  # type: ignore[misc]
    assert "sequence" in inspect.signature(BindingUpdate).parameters
