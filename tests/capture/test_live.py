"""Live capture (mipsniff.capture.live): the filter, privilege and interface errors, and a real capture
between two network namespaces this test creates and removes."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mipsniff.capture import live
from mipsniff.capture.writer import PcapWriter
from mipsniff.errors import UserError
from mipsniff.lab import netns


def _need_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root: live capture tests must not skip there")
        pytest.skip("needs root (network namespaces, AF_PACKET); run as root to include it")


def test_filter_keeps_mobility_next_headers_and_known_hosts() -> None:
    expr = live.mobility_filter([ipaddress.IPv6Address("2001:db8::beef")], extra="udp port 5004")
    for nh in (58, 135, 41, 4, 60, 43):
        assert f"ip6[6] == {nh}" in expr
    assert "host 2001:db8::beef" in expr
    assert expr.endswith("(udp port 5004)")


def test_compile_bpf_gives_a_program_ending_in_returns() -> None:
    prog = live.compile_bpf(live.mobility_filter())
    assert prog[0] == (0x28, 0, 0, 12)  # ldh [12]: the Ethertype
    assert all(code == 0x06 for code, *_ in prog[-2:])  # ret #snaplen / ret #0


def test_bad_user_filter_is_one_line_error() -> None:
    with pytest.raises(UserError, match="bad capture filter"):
        live.compile_bpf("this is (( not a filter")


def test_unknown_interface_lists_the_ones_that_exist() -> None:
    with pytest.raises(UserError) as info:
        live.check_interface("nosuchif0")
    assert "lo" in str(info.value) and "nosuchif0" in str(info.value)


def test_without_privilege_says_what_to_do() -> None:
    _need_root()  # we need root to drop the capability with setpriv(1)
    code = (
        "from mipsniff.capture.live import RawCapture\n"
        "from mipsniff.errors import UserError\n"
        "try:\n    RawCapture('lo')\nexcept UserError as e:\n    print(e)\n"
    )
    drop = ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"]
    out = subprocess.run([*drop, sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert "root or CAP_NET_RAW" in out.stdout, out.stderr


@pytest.fixture
def veth_pair() -> Iterator[tuple[str, str]]:
    _need_root()
    tag = uuid.uuid4().hex[:6]
    a, b = f"msnt-{tag}-a", f"msnt-{tag}-b"
    try:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "link", "add", "v0", "netns", a, "type", "veth", "peer", "name", "v1", "netns", b],
                       check=True)
        for ns, dev, addr in ((a, "v0", "2001:db8:9::a/64"), (b, "v1", "2001:db8:9::b/64")):
            netns.run(ns, ["ip", "addr", "add", addr, "dev", dev, "nodad"])
            netns.run(ns, ["ip", "link", "set", dev, "up"])
            netns.run(ns, ["ip", "link", "set", "lo", "up"])
        yield a, b
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def _udp_from(ns: str, dst: str, n: int) -> None:
    with netns.entered(ns):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    with s:
        for i in range(n):
            s.sendto(struct.pack("!I", i), (dst, 9999))


@pytest.mark.root
def test_raw_capture_filters_in_the_kernel_and_writes_pcap(veth_pair: tuple[str, str], tmp_path: Path) -> None:
    a, b = veth_pair
    with netns.entered(a):
        cap = live.RawCapture("v0")
    pcap = tmp_path / "live.pcap"
    frames: list = []
    with cap, pcap.open("wb") as f:
        writer = PcapWriter(f, cap.linktype)

        def traffic() -> None:
            time.sleep(0.3)
            netns.run(b, ["ping", "-c", "3", "-i", "0.2", "-W", "1", "2001:db8:9::a"])
            _udp_from(b, "2001:db8:9::a", 5)  # not mobility-relevant: the kernel filter drops it

        t = threading.Thread(target=traffic)
        t.start()
        frames = list(live.capture_frames(cap, writer=writer, duration_s=2.5))
        t.join()
        stats = cap.stats()
    kinds = [(fr.data[20], fr.data[54]) for fr in frames if len(fr.data) > 54 and fr.data[12:14] == b"\x86\xdd"]
    assert kinds.count((58, 128)) == 3 and kinds.count((58, 129)) == 3
    assert all(nh != 17 for nh, _ in kinds)
    assert [fr.index for fr in frames] == list(range(1, len(frames) + 1))
    assert all(abs(fr.ts_ns - time.time_ns()) < 60e9 for fr in frames)
    assert stats.received >= len(frames) and stats.dropped == 0
    out = subprocess.run(["tcpdump", "-nr", str(pcap)], capture_output=True, text=True, check=True)
    assert out.stdout.count("ICMP6, echo request") == 3


@pytest.mark.root
def test_user_bpf_is_added_and_known_hosts_kept(veth_pair: tuple[str, str]) -> None:
    a, b = veth_pair
    with netns.entered(a):
        cap = live.RawCapture("v0", extra="udp port 9999")
    with cap:
        t = threading.Thread(target=lambda: (time.sleep(0.3), _udp_from(b, "2001:db8:9::a", 4)))
        t.start()
        frames = list(live.capture_frames(cap, duration_s=1.5))
        t.join()
    assert sum(1 for fr in frames if fr.data[20] == 17) == 4


@pytest.mark.root
def test_dumpcap_backend_gives_the_same_frames(veth_pair: tuple[str, str]) -> None:
    a, b = veth_pair
    # dumpcap must run inside the namespace; the whole capture happens there.
    code = (
        "from mipsniff.capture import live\n"
        "cap = live.open_live('v0', backend=live.Backend.tshark)\n"
        "frames = list(live.capture_frames(cap, duration_s=3.0)); cap.close()\n"
        "print(sum(1 for f in frames if len(f.data) > 54 and f.data[20] == 58 and f.data[54] in (128, 129)),"
        " cap.stats().dropped, cap.stats().source)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(["ip", "netns", "exec", a, sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(1.2)
    netns.run(b, ["ping", "-c", "3", "-i", "0.2", "-W", "1", "2001:db8:9::a"])
    out, err = proc.communicate(timeout=30)
    assert out.split() == ["6", "0", "dumpcap"], err


@pytest.mark.root
def test_kernel_drops_are_counted(veth_pair: tuple[str, str]) -> None:
    a, b = veth_pair
    with netns.entered(a):
        cap = live.RawCapture("v0", extra="udp port 9999", buffer_bytes=4096)  # a tiny socket buffer
    with cap:
        _udp_from(b, "2001:db8:9::a", 2000)  # nobody reads meanwhile: the kernel must drop most
        time.sleep(0.3)
        stats = cap.stats()
        again = cap.stats()
    assert stats.dropped > 1000 and stats.received + stats.dropped >= 2000
    assert again.dropped == stats.dropped  # PACKET_STATISTICS resets on read; the totals are kept
