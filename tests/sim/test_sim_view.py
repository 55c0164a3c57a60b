"""The simulator's own packet reader and the truth helpers built on it, against the agent's builders
(scapy, a different code) and hand-written bytes."""

import struct
from ipaddress import IPv6Address, IPv6Network

from mipsniff.agent import packets as pk
from mipsniff.agent.config import PrefixConfig, RaConfig
from mipsniff.sim.truth import _gaps, location
from mipsniff.sim.view import read

HOA, HA, CN = IPv6Address("2001:db8::beef"), IPv6Address("2001:db8::"), IPv6Address("2001:db8:cc::100")
COA = IPv6Address("2001:db8:1:0:205:5dff:fef2:db2b")


def test_bu_with_hao_and_ba_with_rh2():
    bu = read(pk.build_bu(COA, HA, home_address=HOA, seq=54814, lifetime_s=262140))
    assert (bu.src, bu.dst, bu.hao, bu.mh_type, bu.mh_seq, bu.mh_lifetime_s, bu.mh_flags) == (
        COA, HA, HOA, 5, 54814, 262140, 0xC000)
    assert bu.effective_src == HOA and bu.is_mobility and not bu.is_data
    ba = read(pk.build_ba(HA, COA, home_address=HOA, status=0, seq=54814, lifetime_s=262140))
    assert (ba.rh2, ba.effective_dst, ba.mh_type, ba.mh_status, ba.mh_seq) == (HOA, HOA, 6, 0, 54814)


def test_tunnelled_echo_and_its_path():
    inner = pk.build_echo(HA, HOA, ident=0x1234, seq=13, data=b"x" * 56, reply=True, hlim=63)
    v = read(pk.encapsulate(HA, COA, inner))
    assert v.protocol == 41 and v.inner is not None
    assert (v.inner.icmp_type, v.inner.echo_id, v.inner.echo_seq, v.inner.hop_limit) == (129, 0x1234, 13, 63)
    assert location(v, HOA, HA) == COA
    assert location(read(inner), HOA, HA) == HOA  # at home
    assert location(read(pk.build_echo(HA, CN, ident=1, seq=1, data=b"", reply=False)), HOA, HA) is None


def test_ra_interval_and_prefix_and_dad_ns():
    cfg = RaConfig(prefixes=(PrefixConfig(prefix=IPv6Network("2001:db8:1::/64")),), max_interval_ms=250)
    ra = read(pk.build_ra(IPv6Address("fe80::1"), pk.ALL_NODES, cfg, "00:16:3e:00:01:02", None))
    assert (ra.icmp_type, ra.ra_adv_interval_ms, ra.ra_prefixes, ra.is_nd) == (134, 250, ("2001:db8:1::/64",), True)
    ns = read(pk.build_ns(pk.UNSPECIFIED, pk.solicited_node(COA), COA, None))
    assert ns.is_dad_ns and ns.nd_target == COA


def test_rtp_and_stream_sequence_numbers_from_bytes():
    rtp = struct.pack("!BBHII", 0x80, 96, 0xFFFF, 0, 0xCAFE) + bytes(20)
    v = read(pk.build_udp(CN, HOA, sport=5004, dport=5004, payload=rtp))
    assert (v.rtp_seq, v.rtp_ssrc, v.is_data) == (0xFFFF, 0xCAFE, True)
    msnf = b"MSNF" + struct.pack("!IQ", 7, 0) + b"flow\x00"
    v = read(pk.build_udp(CN, HOA, sport=1, dport=2, payload=msnf))
    assert (v.stream_seq, v.stream_name, v.rtp_seq) == (7, "flow", None)


def test_gaps_count_skipped_numbers_modulo():
    assert _gaps([8, 13], 1 << 16) == 4
    assert _gaps([65534, 1], 1 << 16) == 2  # 65535 and 0 skipped across the wrap
    assert _gaps([5, 5, 6], 1 << 16) == 0
    assert _gaps([], 1 << 16) == 0
