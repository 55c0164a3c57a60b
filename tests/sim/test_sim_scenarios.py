"""Scenarios and their ground truth: the article's numbers, each scenario's point, determinism, speed,
and that every expected timestamp is the timestamp of a frame of that vantage's capture."""

import io
import json
import struct
import time
from ipaddress import IPv6Address

import pytest

from mipsniff.capture.writer import write_capture
from mipsniff.sim.clock import EPOCH_NS
from mipsniff.sim.scenarios import SCENARIOS, SettingError, parse_settings, random_scenario, run
from mipsniff.sim.world import CN_ADDRESS

PHASES = ("t_last_old", "t_link_up", "t_movement_detected", "t_dad", "t_bu", "t_ba", "t_resumed")
CONTRACT_EXPECTED = {*PHASES, "bu_seq", "bu_retransmissions", "ba_status", "result", "lost"}
RUNNABLE = list(SCENARIOS)


def read_frames(data: bytes) -> list[tuple[int, int]]:
    """(interface, timestamp in µs) of every frame of a pcap or pcapng written by the simulator."""
    if data[:4] == struct.pack("<I", 0xA1B2C3D4):
        out, off = [], 24
        while off < len(data):
            sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
            out.append((0, sec * 1_000_000 + usec))
            off += 16 + incl
        return out
    out, off = [], 0
    while off < len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        if btype == 6:
            iface, hi, lo = struct.unpack_from("<III", data, off + 8)
            out.append((iface, (hi << 32) | lo))
        off += blen
    return out


@pytest.fixture(scope="module")
def results():
    return {name: run(name, 1) for name in RUNNABLE}


def handovers(result):
    return result.truth(["mn"])["handovers"]


def test_article_numbers(results):
    r = results["article"]
    truth = r.truth(["mn"])
    assert truth["mobile_nodes"] == [{"home_address": "2001:db8::beef", "home_agent": "2001:db8::",
                                      "mac": "00:05:5d:f2:db:2b"}]
    (h,) = truth["handovers"]
    assert (h["kind"], h["old_coa"], h["new_coa"], h["result"]) == (
        "home_to_foreign", "2001:db8::beef", "2001:db8:1:0:205:5dff:fef2:db2b", "completed")
    mn = h["expected"]["mn"]
    assert (mn["bu_seq"], mn["ba_status"], mn["bu_retransmissions"]) == (54814, 0, 0)
    assert mn["lost"] == {"echo_unsent": 4, "echo_unanswered": 0, "stream_missing": 0}
    assert mn["t_last_old"] < mn["t_link_up"] <= mn["t_movement_detected"] < mn["t_dad"] < mn["t_bu"] < mn["t_ba"] < mn["t_resumed"]
    assert truth["bindings"][0]["lifetime_s"] == 262140
    # RTT 3.7 ms at home, ~142 ms through the tunnel, inner hop limit 63, from the pinger's own truth.
    rtts = {rec.fields["seq"]: (rec.fields["rtt_ns"], rec.fields["hop_limit"])
            for rec in r.extra["world"].net.truth if rec.kind == "data_received"}
    assert 3_600_000 <= rtts[8][0] <= 3_800_000 and rtts[8][1] == 64
    assert 140_000_000 <= rtts[13][0] <= 145_000_000 and rtts[13][1] == 63
    fates = {d["seq"]: d["fate"] for d in truth["data"]}
    assert [fates[s] for s in range(8, 14)] == ["delivered", "unsent", "unsent", "unsent", "unsent", "delivered"]


def test_each_scenario_shows_its_point(results):
    h = handovers(results["foreign-to-foreign"])
    assert [x["kind"] for x in h] == ["home_to_foreign", "foreign_to_foreign"]
    assert h[1]["new_coa"].startswith("2001:db8:2:")
    h = handovers(results["return-home"])
    assert [x["kind"] for x in h] == ["home_to_foreign", "foreign_to_home"]
    assert results["return-home"].truth_base["bindings"][-1]["kind"] == "deregistration"
    assert results["return-home"].truth_base["bindings"][-1]["lifetime_s"] == 0
    (h,) = handovers(results["lost-ba"])
    assert [b["seq"] for b in h["events"]["bu"]] == [3000, 3001]
    assert h["expected"]["mn"]["bu_retransmissions"] == 1 and h["expected"]["mn"]["bu_seq"] == 3001
    assert h["expected"]["ha"]["bu_seq"] == 3000  # the HA saw its first BA go out
    (h,) = handovers(results["rejected"])
    assert h["result"] == "failed" and h["expected"]["mn"]["ba_status"] == 133
    assert h["expected"]["mn"]["t_resumed"] is None
    h = handovers(results["seq-out-of-window"])[1]
    assert [b["seq"] for b in h["events"]["bu"]] == [40000, 40001] and h["result"] == "completed"
    assert 135 in [b["status"] for b in results["seq-out-of-window"].truth_base["bindings"]]
    (h,) = handovers(results["rtp-stream"])
    assert h["expected"]["mn"]["lost"]["stream_missing"] > 100
    multi = results["multi-mn"].truth_base
    assert len(multi["mobile_nodes"]) == 3 and any(b["kind"] == "refresh" for b in multi["bindings"])
    assert all(x["expected"]["ha"]["t_bu"] is not None for x in multi["handovers"])
    ro = results["route-optimization"]
    (h,) = handovers(ro)
    assert h["result"] == "completed"
    coa = IPv6Address(h["new_coa"])
    views = [c.view for c in ro.crossings if c.vantage == "mn"]
    to_cn = [v.inner if v.inner is not None else v for v in views]
    assert {v.mh_type for v in to_cn if v.dst == CN_ADDRESS} >= {1, 2, 5}  # HoTI, CoTI, BU
    assert any(v.icmp_type == 128 and v.hao is not None and v.src == coa for v in views)  # RO data, HAO
    assert any(v.icmp_type == 129 and v.rh2 is not None and v.dst == coa for v in views)  # RO data, RH2
    (h,) = handovers(results["router-loss"])
    mn = h["expected"]["mn"]
    # Router loss: detection when the home router's 250 ms Advertisement Interval ran out, before any RA
    # of the new router, and no L2 trigger (the first thing the MN sends is the RS that follows).
    assert mn["t_movement_detected"] == mn["t_link_up"] < h["events"]["ra"]
    assert h["events"]["l2_up"] < mn["t_movement_detected"]
    # The expiry computed from the RA's capture time equals the MN machine's own router-loss timer.
    assert h["events"]["router_lost"] == mn["t_movement_detected"]


@pytest.mark.parametrize("name", RUNNABLE)
def test_truth_follows_the_contract(results, name):
    truth = json.loads(json.dumps(results[name].truth(["mn", "ha"])))
    assert set(truth) >= {"scenario", "seed", "vantages", "settings", "mobile_nodes", "handovers", "bindings", "data"}
    assert truth["handovers"]
    for h in truth["handovers"]:
        assert set(h["events"]) >= {"l2_down", "l2_up", "rs", "ra", "dad_start", "dad_end", "bu", "ba",
                                    "last_data_old", "first_data_new"}
        for v in ("mn", "ha"):
            assert set(h["expected"][v]) == CONTRACT_EXPECTED
            assert set(h["expected"][v]["lost"]) == {"echo_unsent", "echo_unanswered", "stream_missing"}
        IPv6Address(h["new_coa"])
    for b in truth["bindings"]:
        assert b["kind"] in ("registration", "refresh", "deregistration")
    assert {d["fate"] for d in truth["data"]} <= {"delivered", "lost", "unsent"}


def check_times_are_frame_times(result, vantages):
    buf = io.BytesIO()
    write_capture(buf, vantages, result.frames(vantages))
    frames = read_frames(buf.getvalue())
    per_vantage = {v: {t for i, t in frames if i == k} for k, v in enumerate(vantages)}
    truth = result.truth(vantages)
    checked = 0
    for h in truth["handovers"]:
        for v in vantages:
            exp = h["expected"][v]
            for phase in PHASES:
                t = exp[phase]
                if t is None or phase == "t_movement_detected":
                    continue
                us = round(t * 1_000_000)
                assert us / 1_000_000 == t, "not on the microsecond grid"
                assert us in per_vantage[v], f"{v} {phase} {t} is no frame's timestamp"
                checked += 1
    return checked


@pytest.mark.parametrize("name", RUNNABLE)
def test_expected_times_are_timestamps_of_frames_in_the_capture(results, name):
    assert check_times_are_frame_times(results[name], ["mn", "ha"]) > 5


def test_random_scenarios_are_deterministic_varied_fast_and_consistent():
    cpu = []
    kinds = set()
    for seed in range(12):
        t0 = time.process_time()
        r = random_scenario(seed)
        cpu.append(time.process_time() - t0)
        kinds.update(h["kind"] for h in r.truth_base["handovers"])
        check_times_are_frame_times(r, ["mn", "ha"])
        for h in r.truth_base["handovers"]:
            mn = h["expected"]["mn"]
            seq = [mn[p] for p in ("t_link_up", "t_dad", "t_bu", "t_ba") if mn[p] is not None]
            assert seq == sorted(seq)
    again = random_scenario(3)
    first = random_scenario(3)
    assert again.frames(["mn", "ha"]) == first.frames(["mn", "ha"]) and again.truth_base == first.truth_base
    assert random_scenario(4).frames(["mn"]) != first.frames(["mn"])
    assert kinds == {"home_to_foreign", "foreign_to_foreign", "foreign_to_home"}
    assert sorted(cpu)[len(cpu) // 2] < 0.5  # median CPU per run


def test_settings_are_parsed_to_their_defaults_type():
    s = parse_settings({"a": 1, "b": 0.5, "c": True, "d": "x"}, ["a=3", "b=2", "c=off", "d=y=z"])
    assert s == {"a": 3, "b": 2.0, "c": False, "d": "y=z"}
    for bad in (["zz=1"], ["a=x"], ["c=maybe"], ["a"]):
        with pytest.raises(SettingError):
            parse_settings({"a": 1, "c": True}, bad)
    with pytest.raises(SettingError):
        run("no-such-scenario")


def test_a_setting_changes_the_run():
    r = run("article", 1, ["move_at_ms=5500"])
    (h,) = r.truth(["mn"])["handovers"]
    assert h["events"]["l2_down"] == (EPOCH_NS + 5_500_000_000) / 1e9
