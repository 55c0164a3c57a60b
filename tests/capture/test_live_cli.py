"""`mipsniff live` as a user meets it: one-line errors with exit status 2, and a short real capture."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from mipsniff.lab import netns

ROOT = Path(__file__).resolve().parents[2]
MIPSNIFF = [sys.executable, "-c", "from mipsniff.cli import main; main()"]


def _run(argv: list[str], prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), *MIPSNIFF, *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _need_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root: live capture tests must not skip there")
        pytest.skip("needs root; run as root to include it")


def test_unknown_interface_is_one_line_listing_the_interfaces() -> None:
    p = _run(["live", "nosuch0", "--duration", "1"])
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "no interface 'nosuch0'" in lines[0] and "lo" in lines[0]


def test_bad_user_filter_names_only_what_the_user_wrote() -> None:
    _need_root()
    p = _run(["live", "lo", "--bpf", "((bad", "--duration", "1"])
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [p.stderr.strip()]
    assert "bad capture filter '((bad'" in p.stderr


def test_without_cap_net_raw_says_what_to_do() -> None:
    _need_root()
    p = _run(["live", "lo", "--duration", "1"], prefix=["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"])
    assert p.returncode == 2
    assert p.stderr.strip() == ("mipsniff: error: live capture needs root or CAP_NET_RAW: run it as root (sudo) "
                                "or grant the capability")


@pytest.mark.root
def test_sigterm_ends_with_the_json_report_counting_packets_and_drops(tmp_path: Path) -> None:
    _need_root()
    ns = f"msnt-{uuid.uuid4().hex[:6]}"
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        netns.run(ns, ["ip", "link", "set", "lo", "up"])
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *MIPSNIFF, "live", "lo", "--json",
                                 "-w", str(tmp_path / "lo.pcap")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.stderr is not None
        assert proc.stderr.readline().startswith("mipsniff: capturing on lo")
        netns.run(ns, ["ping", "-c", "2", "-i", "0.2", "::1"])
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    # Loopback shows each packet twice (out and in): 2 requests + 2 replies.
    assert doc["live"]["packets"] == 8 and doc["live"]["kernel_dropped"] == 0
    assert doc["capture"]["format"] == "live:raw" and doc["handovers"] == []
    assert (tmp_path / "lo.pcap").stat().st_size == 24 + 8 * (16 + 14 + 40 + 64)


@pytest.mark.root
def test_count_stops_after_n_packets() -> None:
    _need_root()
    ns = f"msnt-{uuid.uuid4().hex[:6]}"
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        netns.run(ns, ["ip", "link", "set", "lo", "up"])
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *MIPSNIFF, "live", "lo", "--json", "--count", "3"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.stderr is not None
        assert proc.stderr.readline().startswith("mipsniff: capturing on lo")
        netns.run(ns, ["ping", "-c", "3", "-i", "0.2", "::1"])
        out, err = proc.communicate(timeout=60)
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
    assert proc.returncode == 0, err
    assert json.loads(out)["live"]["packets"] == 3
