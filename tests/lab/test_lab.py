"""Proof of issue 5: the article's experiment in the lab, watched by `mipsniff live` at the MN and the HA.

`lab up`, ping6 from the MN to the HA, `mipsniff live` on the MN's wlan0 and on the HA's eth0 writing
pcaps, `lab move remote`, wait, `lab move home`, stop with SIGINT. The reports must find both handovers
with their phases, the phase times within 5 ms of the agent's own ground truth, the echo loss equal to
what ping reports, and the vty must show the binding. Then with `--backend tshark`, and under a flood of
unrelated packets. Everything runs in namespaces the fixture creates and always removes.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mipsniff.lab import netns, topology
from mipsniff.lab.truth import build_truth

pytestmark = [pytest.mark.root, pytest.mark.slow]

HOA = str(topology.HOME_ADDRESS)
COA = "2001:db8:1:0:205:5dff:fef2:db2b"
TOLERANCE_S = 0.005
# A short L2 gap: the correlator infers UMIP's router-loss detection at "last RA + Advertisement
# Interval" (RFC 6275 §11.5.1) when that instant falls before the new link's RA; the agent, whose link is
# down then, detects the move by RS/RA instead. A 50 ms gap makes that coincidence rare (see README).
GAP_MS = 50
MIPSNIFF = [sys.executable, "-c", "from mipsniff.cli import main; main()"]


def vty(ns: str, command: str) -> str:
    """One command on the agent's vty in namespace `ns`; returns the answer without the prompt."""
    with netns.entered(ns):
        s = socket.create_connection(("localhost", 7777), timeout=5)
    with s:
        buf = b""
        while not buf.endswith(b"mip6d> \0"):
            chunk = s.recv(4096)
            assert chunk, "vty closed"
            buf += chunk
        s.sendall(command.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"mip6d> \0"):
            chunk = s.recv(4096)
            assert chunk, "vty closed"
            buf += chunk
        s.sendall(b"quit\n")
        while s.recv(4096):  # the server closes after quit: the next client is then welcome
            pass
    return buf[: -len(b"mip6d> \0")].decode()


@dataclass
class Run:
    mn: dict[str, Any]
    ha: dict[str, Any]
    truth: dict[str, Any]
    ping_sent: int
    ping_received: int
    bul: str
    bc: str
    t0: float
    flood_packets: int = 0


def _live(ns: str, iface: str, pcap: Path, vantage: str, backend: str, out: Path) -> subprocess.Popen[bytes]:
    argv = [*MIPSNIFF, "live", iface, "-w", str(pcap), "--json", "--home-address", HOA, "--vantage", vantage,
            "--backend", backend]
    return subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=out.open("wb"), stderr=subprocess.PIPE)


def _wait_bul_ready(deadline_s: float) -> str:
    end = time.monotonic() + deadline_s
    text = ""
    while time.monotonic() < end:
        text = vty(topology.NS_MN, "bul")
        if f"Care-of address {COA}" in text and "ack ready" in text:
            return text
        time.sleep(0.2)
    return text


FLOOD = """
import socket, struct, sys, time
socks = []
for dev in ("home0", "remote0"):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    mac = bytes.fromhex(open(f"/sys/class/net/{dev}/address").read().strip().replace(":", ""))
    udp = struct.pack("!HHHH", 40000, 9, 72, 0) + b"x" * 64
    ip6 = (struct.pack("!IHBB", 0x60000000, len(udp), 17, 1) + bytes.fromhex("fe80000000000000000000fffe000a01")
           + bytes.fromhex("ff02" + "00" * 13 + "01"))
    socks.append((s, bytes.fromhex("333300000001") + mac + b"\\x86\\xdd" + ip6 + udp))
n, end = 0, time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    for s, frame in socks:
        for _ in range(500):
            try:
                s.send(frame)
                n += 1
            except OSError:
                pass
print(n)
"""


def _flood(seconds: float) -> subprocess.Popen[str]:
    """Unrelated multicast UDP on both links, sent by the router's namespace as raw frames (the bridges
    copy each to every port): as fast as one process can push them, for a bounded time."""
    return subprocess.Popen(["ip", "netns", "exec", topology.NS_AR, sys.executable, "-c", FLOOD, str(seconds)],
                            stdout=subprocess.PIPE, text=True)


def experiment(tmp: Path, backend: str = "raw", remote_s: float = 6.0, flood: bool = False) -> Run:
    t0 = time.time()
    procs = {
        "mn": _live(topology.NS_MN, "wlan0", tmp / "mn.pcap", "mn", backend, tmp / "mn.json"),
        "ha": _live(topology.NS_HA, "eth0", tmp / "ha.pcap", "ha", backend, tmp / "ha.json"),
    }
    flooder: subprocess.Popen[str] | None = None
    flood_count = 0
    try:
        for p in procs.values():  # both captures running: each says so on stderr once its socket is open
            assert p.stderr is not None
            line = p.stderr.readline().decode()
            assert line.startswith("mipsniff: capturing on"), line
        time.sleep(0.5)
        if flood:
            flooder = _flood(2.5 + remote_s + 4.0)
        count = int((2.5 + remote_s + 4.0) / 0.2)
        ping = subprocess.Popen(["ip", "netns", "exec", topology.NS_MN, "ping", "-n", "-i", "0.2", "-c", str(count),
                                 "-W", "2", str(topology.HA_ADDRESS)], stdout=subprocess.PIPE, text=True)
        time.sleep(2.5)
        topology.move("remote", gap_ms=GAP_MS)
        bul = _wait_bul_ready(remote_s)
        bc = vty(topology.NS_HA, "bc")
        time.sleep(max(0.0, remote_s - (time.time() - t0 - 4.5)))
        topology.move("home", gap_ms=GAP_MS)
        out, _ = ping.communicate(timeout=60)
        time.sleep(1.0)
    finally:
        if flooder is not None:
            flood_out, _ = flooder.communicate(timeout=60)
            flood_count = int(flood_out.strip() or 0)
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        errs = {k: p.communicate(timeout=60)[1].decode(errors="replace") for k, p in procs.items()}
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, out
    reports = {}
    for k, p in procs.items():
        assert p.returncode == 0, errs[k][-2000:]
        reports[k] = json.loads((tmp / f"{k}.json").read_text())
    return Run(mn=reports["mn"], ha=reports["ha"], truth=build_truth(topology.RUN_DIR), ping_sent=int(m[1]),
               ping_received=int(m[2]), bul=bul, bc=bc, t0=t0, flood_packets=flood_count)


def _truth_handovers(run: Run) -> list[dict[str, Any]]:
    return [h for h in run.truth["handovers"] if h["events"]["bu"][0]["t"] >= run.t0]


def _close_to(a: float | None, b: float | None, what: str, tolerance_s: float = TOLERANCE_S) -> None:
    assert a is not None and b is not None, f"{what}: report {a}, truth {b}"
    assert abs(a - b) <= tolerance_s, f"{what}: report {a:.6f} vs truth {b:.6f} ({(a - b) * 1e3:+.3f} ms)"


def check_run(run: Run, tolerance_s: float = TOLERANCE_S) -> None:
    truth = _truth_handovers(run)

    def _close(a: float | None, b: float | None, what: str) -> None:
        _close_to(a, b, what, tolerance_s)

    assert [h["kind"] for h in truth] == ["home_to_foreign", "foreign_to_home"], truth
    mn = [h for h in run.mn["handovers"] if h["t_bu"] >= run.t0]
    assert [h["kind"] for h in mn] == ["home_to_foreign", "foreign_to_home"], mn
    assert [h["result"] for h in mn] == ["completed", "completed"]
    assert mn[0]["new_coa"] == COA and mn[1]["old_coa"] == COA
    for rep, tru in zip(mn, truth, strict=True):
        ev = tru["events"]
        for phase in ("t_last_old", "t_link_up", "t_movement_detected", "t_bu", "t_ba", "t_resumed"):
            assert rep[phase] is not None, (phase, rep)
        _close(rep["t_bu"], ev["bu"][0]["t"], f"{rep['kind']} t_bu")
        _close(rep["t_ba"], ev["ba"]["t"], f"{rep['kind']} t_ba")
        _close(rep["t_movement_detected"], ev["ra"], f"{rep['kind']} t_movement_detected")
        _close(rep["t_link_up"], ev["rs"], f"{rep['kind']} t_link_up")
        _close(rep["t_last_old"], ev["last_data_old"], f"{rep['kind']} t_last_old")
        _close(rep["t_resumed"], ev["first_data_new"], f"{rep['kind']} t_resumed")
        assert rep["bu_retransmissions"] == len(ev["bu"]) - 1
        assert rep["ba_status"] == ev["ba"]["status"] == 0
        exp = tru["expected"]["mn"]
        for key in ("bu_seq", "bu_retransmissions", "ba_status", "result", "lost"):
            assert rep[key] == exp[key], (key, rep[key], exp[key])
        for key in ("t_last_old", "t_link_up", "t_movement_detected", "t_dad", "t_bu", "t_ba", "t_resumed"):
            if exp[key] is None:
                assert rep[key] is None, (key, rep[key])
            else:
                _close(rep[key], exp[key], f"{rep['kind']} expected.mn.{key}")
    _close(mn[0]["t_dad"], truth[0]["events"]["dad_start"], "home_to_foreign t_dad")
    # The echo loss the MN's capture shows is the loss ping itself counts.
    lost = sum(h["lost"]["echo_unsent"] + h["lost"]["echo_unanswered"] for h in mn)
    assert lost == run.ping_sent - run.ping_received, (lost, run.ping_sent, run.ping_received, mn)
    # ... and what the agent itself knows it sent and got back (its ground truth) agrees with both.
    fates = [d for d in run.truth["data"] if d["t_sent"] >= run.t0]
    assert len(fates) == run.ping_sent
    assert sum(d["fate"] != "delivered" for d in fates) == lost
    # The HA sees both registrations at the times its agent received the BU and sent the BA.
    ha = [h for h in run.ha["handovers"] if h["t_bu"] >= run.t0]
    assert [h["kind"] for h in ha] == ["home_to_foreign", "foreign_to_home"], ha
    for rep, tru in zip(ha, truth, strict=True):
        _close(rep["t_bu"], tru["events"]["ha_bu_received"], f"ha {rep['kind']} t_bu")
        _close(rep["t_ba"], tru["events"]["ha_ba_sent"], f"ha {rep['kind']} t_ba")
    # The vty shows the binding while the MN is away, in mip6d's format.
    assert "Care-of address 2001:db8:1:0:205:5dff:fef2:db2b" in run.bul and "ack ready" in run.bul, run.bul
    assert "hoa 2001:db8:0:0:0:0:0:beef status registered" in run.bc, run.bc
    assert " coa 2001:db8:1:0:205:5dff:fef2:db2b flags AH--" in run.bc, run.bc
    for rep in (run.mn, run.ha):
        assert rep["live"]["kernel_dropped"] >= 0 and "kernel_received" in rep["live"]


def test_article_experiment_raw_backend(lab: topology.LabState, tmp_path: Path) -> None:
    run = experiment(tmp_path)
    check_run(run)
    assert run.mn["live"]["drop_counter"] == "PACKET_STATISTICS"
    # The pcap written alongside holds the BU and BA (tcpdump as an independent reader).
    out = subprocess.run(["tcpdump", "-nr", str(tmp_path / "mn.pcap")], capture_output=True, text=True, check=True)
    assert re.search(r"mobility: BU seq#=\d+ AH lifetime=262140", out.stdout)
    assert re.search(r"mobility: BA status=0 seq#=\d+ lifetime=262140", out.stdout)


def test_article_experiment_tshark_backend(lab: topology.LabState, tmp_path: Path) -> None:
    run = experiment(tmp_path, backend="tshark")
    check_run(run)
    assert run.mn["live"]["drop_counter"] == "dumpcap"


def test_handovers_found_under_a_flood(lab: topology.LabState, tmp_path: Path) -> None:
    run = experiment(tmp_path, flood=True)
    # The issue asks that the handovers are still found; on 2 cores a flood can delay a user-space agent
    # by a few ms, so the timing check is looser here than the 5 ms of the quiet runs.
    check_run(run, tolerance_s=0.020)
    assert run.flood_packets > 100_000
    for rep in (run.mn, run.ha):
        assert isinstance(rep["live"]["kernel_dropped"], int)
    print(f"flood: {run.flood_packets} packets; kernel drops mn {run.mn['live']['kernel_dropped']}, "
          f"ha {run.ha['live']['kernel_dropped']}")


def test_lab_up_is_idempotent_and_status_shows_it(lab: topology.LabState) -> None:
    before = topology.load_state()
    again = topology.up()
    assert before is not None and again.pids == before.pids
    rows = dict(topology.status())
    assert rows["lab"] == "up" and rows["agent-mn"].endswith("running") and rows["radvd-home"].endswith("running")


def test_vty_answers_garbage_and_one_client_at_a_time(lab: topology.LabState) -> None:
    assert vty(topology.NS_MN, "frobnicate").strip() == 'unknown command: "frobnicate"'
    assert vty(topology.NS_HA, "help").split() == ["bc", "quit", "stats"]
    assert vty(topology.NS_MN, "help").split() == ["bul", "quit", "stats"]
    stats = vty(topology.NS_MN, "stats")
    assert stats.startswith("Input Statistics:\n") and "Output Statistics:" in stats
    with netns.entered(topology.NS_MN):
        first = socket.create_connection(("localhost", 7777), timeout=5)
        second = socket.create_connection(("localhost", 7777), timeout=5)
    with first, second:
        first.recv(64)
        assert second.recv(64) == b"Too many connections\n"
    # Loopback only: nothing listens on the MN's other addresses.
    with netns.entered(topology.NS_MN), pytest.raises(OSError):
        socket.create_connection((COA, 7777), timeout=1)
