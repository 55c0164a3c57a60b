"""What `mipsniff lab ACTION` does, as lines to print (the CLI stays a thin wrapper)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from mipsniff.errors import UserError
from mipsniff.lab import topology as topo

ACTIONS = ("up", "move", "status", "down", "truth")


def run(action: str, *, cell: str | None = None, delay_ms: int = 0, gap_ms: int = 200,
        output: str | None = None) -> Iterator[str]:
    if action not in ACTIONS:
        raise UserError(f"unknown lab action {action!r}; actions: {', '.join(ACTIONS)}")
    if action in ("up", "move", "down"):
        topo.check_host()
        with topo.exclusive():
            yield from _change(action, cell=cell, delay_ms=delay_ms, gap_ms=gap_ms)
        return
    if action == "status":
        for what, running in topo.status():
            yield f"{what:<20} {running}"
    elif action == "truth":
        from mipsniff.lab.truth import build_truth

        doc = build_truth(topo.RUN_DIR)
        text = json.dumps(doc, indent=1)
        if output:
            Path(output).write_text(text + "\n")
            yield output
        else:
            yield text


def _change(action: str, *, cell: str | None, delay_ms: int, gap_ms: int) -> Iterator[str]:
    if action == "up":
        already = topo.is_up()
        state = topo.up(delay_ms=delay_ms)
        if already and state.delay_ms != delay_ms:
            raise UserError(f"the lab is already up with --delay {state.delay_ms}: run `mipsniff lab down` first")
        yield "lab already up" if already else "lab up"
        yield f"  mn ({topo.NS_MN}) wlan0 on cell {state.cell}; home address {topo.HOME_ADDRESS}"
        yield f"  ha ({topo.NS_HA}) eth0 {topo.HA_ADDRESS}; vty: ip netns exec {topo.NS_MN} telnet localhost 7777"
        yield f"  try: ip netns exec {topo.NS_MN} ping {topo.HA_ADDRESS}   then: mipsniff lab move remote"
    elif action == "move":
        if cell is None:
            raise UserError("lab move needs a cell: home or remote")
        topo.move(cell, gap_ms=gap_ms)
        yield f"wlan0 moved to {cell}"
    elif action == "down":
        removed = topo.down()
        yield f"lab down ({len(removed)} objects removed)"
