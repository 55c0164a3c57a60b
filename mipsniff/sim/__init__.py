"""The simulated network: virtual clock, links, nodes, capture points, pcap/pcapng writers, ground truth.

Drives the very same sans-I/O agent machines (mipsniff/agent/) as the live lab does (STYLE §5), over
links with one-way delay, jitter and loss drawn from one seeded `random.Random`, so that a scenario and a
seed always give the same capture byte for byte and the same ground truth.

API for other packages and tests:
    from mipsniff.sim.scenarios import run, random_scenario, SCENARIOS
    result = run("article", seed=1, overrides=["move_at_ms=6000"])   # or random_scenario(seed)
    vantages = result.vantages(None)          # the scenario's default, or "mn" / "ha" / "both"
    frames = result.frames(vantages)          # [(t_ns, vantage, ethernet_frame)] in capture order
    truth = result.truth(vantages)            # the ground-truth dict (sample_pcaps/README.md)
    mipsniff.sim.synth.write_result(result, Path("x.pcap"), vantage)   # capture + x.truth.json
"""
