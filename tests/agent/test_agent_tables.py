"""Every transition handler of every machine's table is exercised by the unit tests (STYLE §5).

The tables are wrapped with counting shims, the unit and integration tests are replayed, and each distinct
handler must have run at least once — so a transition nobody tests shows up here.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import test_agent_ha as test_ha
import test_agent_integration as test_integration
import test_agent_mn as test_mn
import test_agent_router as test_router
import test_agent_traffic as test_traffic

from mipsniff.agent.ha import HomeAgent
from mipsniff.agent.mn import MobileNode
from mipsniff.agent.router import Router
from mipsniff.agent.traffic import Host


def _wrap(table: dict[Any, Callable[..., Any]], calls: Counter[str]) -> dict[Any, Callable[..., Any]]:
    def shim(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*a: Any, **k: Any) -> Any:
            calls[fn.__qualname__] += 1
            return fn(*a, **k)
        return run
    return {key: shim(fn) for key, fn in table.items()}


def _replay(module: Any, tmp_path: Any) -> None:
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if not name.startswith("test_") or fn.__module__ != module.__name__:
            continue
        params = inspect.signature(fn).parameters
        marks = getattr(fn, "pytestmark", [])
        if any(m.name == "parametrize" for m in marks):
            argname, values = next(m.args for m in marks if m.name == "parametrize")
            for v in values:
                fn(**{argname: v})
        elif "tmp_path" in params:
            continue  # the tshark/tcpdump oracles do not drive machines
        else:
            fn()


@pytest.mark.slow
def test_every_transition_handler_is_exercised(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    calls: Counter[str] = Counter()
    tables = {
        (MobileNode, "TABLE"): MobileNode.TABLE,
        (MobileNode, "TIMER_TABLE"): MobileNode.TIMER_TABLE,
        (HomeAgent, "TABLE"): HomeAgent.TABLE,
        (HomeAgent, "BCE_TABLE"): HomeAgent.BCE_TABLE,
        (Router, "TABLE"): Router.TABLE,
        (Host, "TABLE"): Host.TABLE,
    }
    for (cls, attr), table in tables.items():
        monkeypatch.setattr(cls, attr, _wrap(table, calls))
    for module in (test_mn, test_ha, test_router, test_traffic, test_integration):
        _replay(module, tmp_path)
    expected = {fn.__qualname__ for table in tables.values() for fn in table.values()}
    missing = sorted(expected - set(calls))
    assert not missing, f"transition handlers never exercised: {missing}"
