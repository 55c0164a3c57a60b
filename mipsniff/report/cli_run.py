"""What `mipsniff report` does once its arguments are parsed: analyse, then write JSON / CSV / the terminal
view. Kept out of cli.py so the command stays a thin wrapper; the progress bar lives here because only
an interactive caller wants one (stderr must be a terminal)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mipsniff.correlate import CorrelatorConfig, Vantage
from mipsniff.errors import UserError
from mipsniff.report.pipeline import Report, analyze


@contextmanager
def _progress(path: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr while reading, only when stderr is a TTY and the file is large."""
    if not sys.stderr.isatty() or not os.path.isfile(path) or os.path.getsize(path) < 20_000_000:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("reading {task.description}"), BarColumn(), TextColumn("{task.fields[frames]} frames"),
        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task(os.path.basename(path), total=None, frames=0)

        def update(frames: int, size: int) -> None:
            bar.update(task, frames=frames)

        yield update


def run_report(capture: str, *, as_json: bool, csv_dir: str | None, vantage: str, output: str | None) -> Report:
    try:
        v = Vantage(vantage)
    except ValueError:
        raise UserError(f"unknown vantage {vantage!r}: use mn, ha or auto") from None
    # One PacketRecord per signalling packet is kept only for packets.csv: without --csv the report's
    # memory then grows with its handovers, bindings and weirds, not with the signalling traffic.
    config = CorrelatorConfig(vantage=v, keep_packets=csv_dir is not None)
    with _progress(capture) as progress:
        report = analyze(capture, vantage=v, config=config, progress=progress)
    if csv_dir is not None:
        from mipsniff.report.export import write_csv

        write_csv(report, csv_dir)
    if as_json:
        from mipsniff.report.export import write_json

        if output is None:
            write_json(report, sys.stdout)
        else:
            with open(output, "w", encoding="utf-8") as fh:
                write_json(report, fh)
        return report
    from rich.console import Console

    from mipsniff.report.terminal import render

    if output is None:
        render(report, Console())
    else:
        with open(output, "w", encoding="utf-8") as fh:
            render(report, Console(file=fh, width=120, color_system=None))
    return report
