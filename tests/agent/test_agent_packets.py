"""The agent's scapy-built packets: addresses, byte layout, MH checksum, and tshark/tcpdump as oracles."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from ipaddress import IPv6Address, IPv6Network
from pathlib import Path

import pytest

from mipsniff.agent import packets as pk
from mipsniff.agent.config import PrefixConfig, RaConfig
from mipsniff.agent.traffic import RtpStream, UdpStream, classify

HOA = IPv6Address("2001:db8::beef")
HA = IPv6Address("2001:db8::")
MAC = "00:05:5d:f2:db:2b"
COA = IPv6Address("2001:db8:1:0:205:5dff:fef2:db2b")
CN = IPv6Address("2001:db8:5::5")


def test_slaac_address_of_the_articles_mac() -> None:
    assert pk.slaac_address(IPv6Network("2001:db8:1::/64"), MAC) == COA
    assert pk.link_local(MAC) == IPv6Address("fe80::205:5dff:fef2:db2b")
    assert pk.solicited_node(COA) == IPv6Address("ff02::1:fff2:db2b")


def test_nip6_is_mip6d_text() -> None:
    assert pk.nip6(HOA) == "2001:db8:0:0:0:0:0:beef"
    assert pk.nip6(HA) == "2001:db8:0:0:0:0:0:0"


def test_seq_gt_modulo_2_16() -> None:
    assert pk.seq_gt(1, 0)
    assert pk.seq_gt(0, 0xFFFF)  # wraparound
    assert not pk.seq_gt(5, 5)
    assert not pk.seq_gt(0xFFFF, 0)
    assert pk.seq_gt(0x7FFF, 0)
    assert not pk.seq_gt(0x8000, 0)  # mip6d: (short)(0x8000) < 0


def test_bu_bytes() -> None:
    b = pk.build_bu(COA, HA, home_address=HOA, seq=54814, lifetime_s=262140)
    assert b[6] == 60  # next header: Destination Options
    dst_opt = b[40:64]
    assert dst_opt[0] == 135 and dst_opt[1] == 2  # next header MH, 24 bytes
    assert dst_opt[6] == 0xC9 and dst_opt[7] == 16  # HAO at offset 6 (8n+6 alignment, RFC 6275 §6.3)
    assert dst_opt[8:24] == HOA.packed
    mh = b[64:]
    assert mh[2] == 5  # MH type BU
    assert struct.unpack("!H", mh[6:8])[0] == 54814  # seq
    assert struct.unpack("!H", mh[8:10])[0] == 0xC000  # A and H in the top bits
    assert struct.unpack("!H", mh[10:12])[0] == 65535  # 262140 s in 4 s units
    assert (mh[1] + 1) * 8 == len(mh)


def test_mh_checksum_uses_the_home_address_in_the_pseudo_header() -> None:
    b = pk.build_bu(COA, HA, home_address=HOA, seq=1, lifetime_s=60)
    mh = b[64:]
    wire = struct.unpack("!H", mh[4:6])[0]
    assert pk.mh_checksum(HOA, HA, mh) == wire  # scapy honoured the HAO
    assert pk.mh_checksum(COA, HA, mh) != wire
    p = pk.parse(b)
    assert p is not None and p.mh_checksum_ok


def test_ba_checksum_uses_the_rh2_final_destination() -> None:
    b = pk.build_ba(HA, COA, home_address=HOA, status=0, seq=7, lifetime_s=60)
    assert b[6] == 43 and b[42] == 2 and b[43] == 1  # RH type 2, segments left 1
    mh = b[64:]
    assert pk.mh_checksum(HA, HOA, mh) == struct.unpack("!H", mh[4:6])[0]


def test_corrupted_mh_checksum_is_detected() -> None:
    b = bytearray(pk.build_bu(COA, HA, home_address=HOA, seq=1, lifetime_s=60))
    b[-1] ^= 0xFF
    p = pk.parse(bytes(b))
    assert p is not None and not p.mh_checksum_ok


def test_parse_rejects_garbage_without_raising() -> None:
    assert pk.parse(b"") is None
    assert pk.parse(b"\x45" + bytes(50)) is None
    b = pk.build_bu(COA, HA, home_address=HOA, seq=1, lifetime_s=60)
    for cut in range(0, len(b)):
        pk.parse(b[:cut])  # must not raise


def test_bu_lifetime_rounds_down_to_4_s() -> None:
    p = pk.parse(pk.build_bu(COA, HA, home_address=HOA, seq=1, lifetime_s=86399))
    assert p is not None and p.lifetime_s == 86396


def test_dereg_bu_at_home_has_no_hao() -> None:
    b = pk.build_bu(HOA, HA, home_address=HOA, seq=9, lifetime_s=0)
    assert b[6] == 135
    p = pk.parse(b)
    assert p is not None and p.hoa is None and p.lifetime_s == 0 and p.mh_checksum_ok


def test_ra_options() -> None:
    cfg = RaConfig(prefixes=(PrefixConfig(prefix=IPv6Network("2001:db8::/64"), router_address=True),),
                   min_interval_ms=50, max_interval_ms=150, home_agent_flag=True, home_agent_info=True,
                   home_agent_preference=10)
    b = pk.build_ra(pk.link_local("02:00:00:00:00:01"), pk.ALL_NODES, cfg, "02:00:00:00:00:01", HA)
    p = pk.parse(b)
    assert p is not None and p.kind == pk.Kind.RA
    assert p.ra_home_agent and p.hlim == 255
    assert p.adv_interval_ms == 170  # radvd's +20 ms leeway below 200 ms
    assert p.prefixes[0].router_address and p.prefixes[0].address == HA
    assert p.prefixes[0].prefix == IPv6Network("2001:db8::/64")


def test_tunnel_roundtrip() -> None:
    inner = pk.build_echo(HOA, HA, ident=1, seq=2, data=b"abc", reply=False)
    outer = pk.encapsulate(COA, HA, inner)
    p = pk.parse(outer)
    assert p is not None and p.kind == pk.Kind.TUNNEL and p.inner == inner
    assert p.src == COA and p.dst == HA


def _write_raw_pcap(path: Path, packets: list[bytes]) -> None:
    """A classic pcap with LINKTYPE_RAW (101): each record is an IPv6 packet."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
    for i, p in enumerate(packets):
        out += struct.pack("<IIII", 1_000_000 + i, 0, len(p), len(p)) + p
    path.write_bytes(out)


def _corpus() -> list[bytes]:
    from mipsniff.agent.config import FlowConfig

    ra_cfg = RaConfig(prefixes=(PrefixConfig(prefix=IPv6Network("2001:db8::/64")),), home_agent_flag=True,
                      home_agent_info=True)
    lla = pk.link_local(MAC)
    udp = UdpStream(FlowConfig(flow="up", src=HOA, dst=HA, payload_size=100), __import__("random").Random(1))
    rtp = RtpStream(FlowConfig(flow="rtp", src=HA, dst=HOA, payload_size=160, interval_ms=20),
                    __import__("random").Random(1))
    return [
        pk.build_bu(COA, HA, home_address=HOA, seq=54814, lifetime_s=262140),  # 1
        pk.build_ba(HA, COA, home_address=HOA, status=0, seq=54814, lifetime_s=262140),  # 2
        pk.build_ba(HA, COA, home_address=HOA, status=135, seq=100, lifetime_s=0),  # 3
        pk.build_be(HA, COA, status=1, home_address=HOA),  # 4
        pk.build_bu(HOA, HA, home_address=HOA, seq=0, lifetime_s=0),  # 5
        pk.build_rs(lla, MAC),  # 6
        pk.build_ra(pk.link_local("02:00:00:00:00:01"), pk.ALL_NODES, ra_cfg, "02:00:00:00:00:01", HA),  # 7
        pk.build_ns(pk.UNSPECIFIED, pk.solicited_node(COA), COA, None),  # 8
        pk.build_na(HOA, pk.ALL_NODES, HOA, MAC, router=False, solicited=False, override=True),  # 9
        pk.encapsulate(COA, HA, pk.build_echo(HOA, HA, ident=0x1234, seq=7, data=bytes(56), reply=False)),  # 10
        udp.build(3, 0),  # 11
        rtp.build(4, 0),  # 12
        # route optimisation (RFC 6275 §6.1.3-§6.1.7, §6.2.6-§6.2.7, §11.3.1, §9.3.2)
        pk.build_test_init(HOA, CN, cookie=b"12345678", home=True),  # 13
        pk.build_test_init(COA, CN, cookie=b"abcdefgh", home=False),  # 14
        pk.build_test(CN, HOA, index=1, cookie=b"12345678", token=b"HHHHHHHH", home=True),  # 15
        pk.build_test(CN, COA, index=1, cookie=b"abcdefgh", token=b"CCCCCCCC", home=False),  # 16
        pk.build_bu_to_cn(COA, CN, home_address=HOA, seq=9, lifetime_s=420, home_nonce_index=1,
                          careof_nonce_index=1, kbm=pk.binding_key(b"HHHHHHHH", b"CCCCCCCC")),  # 17
        pk.insert_hao(pk.build_echo(HOA, CN, ident=1, seq=1, data=bytes(8), reply=False), COA),  # 18
        pk.insert_rh2(pk.build_echo(CN, HOA, ident=1, seq=1, data=bytes(8), reply=True), COA),  # 19
    ]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI")
        pytest.skip(f"{name} not installed")
    return path


@pytest.mark.oracle
def test_tshark_decodes_every_built_packet_cleanly(tmp_path: Path) -> None:
    tshark = _tool("tshark")
    pcap = tmp_path / "agent.pcap"
    _write_raw_pcap(pcap, _corpus())
    fields = ["frame.number", "_ws.malformed", "_ws.expert.severity", "mip6.mhtype", "mip6.bu.seqnr",
              "mip6.bu.a_flag", "mip6.bu.h_flag", "mip6.bu.lifetime", "mip6.ba.status", "mip6.ba.seqnr",
              "mip6.csum", "ipv6.opt.mipv6.home_address", "ipv6.routing.mipv6.home_address",
              "icmpv6.opt.advertisement_interval", "icmpv6.nd.ra.flag.h"]
    cmd = [tshark, "-r", str(pcap), "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split("|") for line in res.stdout.splitlines()]
    assert len(rows) == len(_corpus())
    for row in rows:
        assert row[1] == "", f"frame {row[0]} malformed"
        assert row[2] == "", f"frame {row[0]} has an expert item of severity {row[2]}"
    bu, ba, ba135 = rows[0], rows[1], rows[2]
    assert bu[3] == "5" and bu[4] == "54814" and bu[5] in ("1", "True") and bu[6] in ("1", "True")
    assert bu[7] == "65535"  # raw 4 s units (field notes 3)
    assert bu[11] == "2001:db8::beef"
    assert ba[8] == "0" and ba[9] == "54814" and ba[12] == "2001:db8::beef"
    assert ba135[8] == "135" and ba135[9] == "100"
    assert rows[6][13] == "3000" and rows[6][14] in ("1", "True")
    assert [r[3] for r in rows[12:17]] == ["1", "2", "3", "4", "5"]  # HoTI, CoTI, HoT, CoT, BU
    assert rows[16][5] in ("0", "False") and rows[16][6] in ("0", "False")  # BU to a CN: neither A nor H
    assert rows[17][11] == "2001:db8::beef" and rows[18][12] == "2001:db8::beef"  # HAO, RH2 on data


def test_bu_to_cn_authenticator_is_hmac_sha1_over_coa_cn_and_mh() -> None:
    import hashlib
    import hmac

    kbm = hashlib.sha1(b"HHHHHHHH" + b"CCCCCCCC").digest()
    b = pk.build_bu_to_cn(COA, CN, home_address=HOA, seq=9, lifetime_s=420, home_nonce_index=1,
                          careof_nonce_index=2, kbm=kbm)
    mh = b[64:]
    assert mh[12:18] == bytes([4, 4, 0, 1, 0, 2])  # Nonce Indices: type 4, length 4 (scapy's default is 16)
    assert mh[18:20] == bytes([5, 12]) and len(mh) == 32  # Binding Authorization Data at 8n+2, length 12
    data = mh[:4] + b"\x00\x00" + mh[6:20]  # MH without the Authenticator, checksum as zero (§6.2.7)
    assert mh[20:] == hmac.new(kbm, COA.packed + CN.packed + data, hashlib.sha1).digest()[:12]
    assert pk.mh_checksum(HOA, CN, mh) == struct.unpack("!H", mh[4:6])[0]


@pytest.mark.oracle
def test_tcpdump_prints_the_articles_bu_and_ba_lines(tmp_path: Path) -> None:
    tcpdump = _tool("tcpdump")
    pcap = tmp_path / "bu.pcap"
    _write_raw_pcap(pcap, _corpus()[:2])
    res = subprocess.run([tcpdump, "-n", "-r", str(pcap)], capture_output=True, text=True, timeout=60, check=True)
    assert "mobility: BU seq#=54814 AH lifetime=262140" in res.stdout
    assert "mobility: BA status=0 seq#=54814 lifetime=262140" in res.stdout
    assert "2001:db8:1:0:205:5dff:fef2:db2b > 2001:db8::" in res.stdout


def test_classify_streams_and_tunnelled_echo() -> None:
    corpus = _corpus()
    echo = classify(corpus[9])
    assert echo is not None and echo.key == "echo:1234" and echo.seq == 7 and not echo.reply
    udp = classify(corpus[10])
    assert udp is not None and udp.key == "udp:up" and udp.seq == 3
    rtp = classify(corpus[11])
    assert rtp is not None and rtp.key.startswith("rtp:") and rtp.seq == 4
    assert classify(corpus[0]) is None
