"""`lab up` / `status` / `down`: idempotent, and `down` cleans up after a crash or a half-built lab."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from mipsniff.lab import netns, topology

pytestmark = [pytest.mark.root]
MIPSNIFF = [sys.executable, "-c", "from mipsniff.cli import main; main()"]


def _ours() -> list[str]:
    return [ns for ns in netns.listed() if ns.startswith(topology.PREFIX)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_down_after_a_crash_removes_everything(lab_host: None) -> None:
    try:
        state = topology.up()
        pids = list(state.pids.values())
        assert all(_alive(p) for p in pids) and sorted(_ours()) == sorted(topology.NAMESPACES)
        os.kill(state.pids["agent-mn"], signal.SIGKILL)  # the agent crashes
        time.sleep(0.3)
        rows = dict(topology.status())
        assert rows["lab"] == "degraded" and rows["agent-mn"].endswith("dead")
        again = topology.up()  # not up any more: rebuilt from scratch, not layered on the wreck
        assert again.pids["agent-mn"] != state.pids["agent-mn"] and topology.is_up()
        pids += list(again.pids.values())
    finally:
        topology.down()
    assert _ours() == []
    assert not any(_alive(p) for p in pids)
    assert topology.load_state() is None
    out = subprocess.run([*MIPSNIFF, "lab", "status"], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["lab", "down"]


def test_down_removes_a_half_built_lab_without_state(lab_host: None) -> None:
    try:
        for ns in (topology.NS_SW, topology.NS_MN):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        sleeper = subprocess.Popen(["ip", "netns", "exec", topology.NS_MN, "sleep", "60"])
        time.sleep(0.2)
        topology.RUN_DIR.mkdir(parents=True, exist_ok=True)
        (topology.RUN_DIR / "state.json").unlink(missing_ok=True)
        rows = dict(topology.status())
        assert rows["lab"] == "down" and "stray namespaces" in rows
        removed = topology.down()
        sleeper.wait(timeout=10)
        assert any("netns msn-mn" in r for r in removed)
    finally:
        topology.down()
    assert _ours() == []
