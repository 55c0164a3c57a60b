"""What `mipsniff report FILE [FILE ...] [--engine local|dask] [--scheduler ADDR] [--workdir DIR]
[--partitions N]` does for many files: the multi-file pipeline, then the same JSON / CSV / terminal
outputs as for one file.

Kept out of cli.py so the command stays a thin wrapper. Progress (files done, packets, rate) goes to
stderr; file warnings (duplicate, overlap, unreadable) are printed there too and are in the JSON.
"""

from __future__ import annotations

import sys

from mipsniff.correlate import Vantage
from mipsniff.errors import UserError
from mipsniff.multi.pipeline import MultiResult, analyze


def wants_multi(captures: list[str], engine: str | None, scheduler: str | None, workdir: str | None) -> bool:
    """Whether the multi-file pipeline is asked for: several inputs, a directory or glob, or an
    engine option. One plain file without options keeps the single-process path."""
    import os

    if engine is not None or scheduler is not None or workdir is not None:
        return True
    return len(captures) != 1 or not os.path.isfile(captures[0])


def run_multi_report(
    captures: list[str],
    *,
    as_json: bool,
    csv_dir: str | None,
    vantage: str,
    output: str | None,
    engine: str | None = None,
    scheduler: str | None = None,
    workdir: str | None = None,
    workers: int | None = None,
    partitions: int | None = None,
) -> MultiResult:
    try:
        v = Vantage(vantage)
    except ValueError:
        raise UserError(f"unknown vantage {vantage!r}: use mn, ha or auto") from None
    eng = engine or ("dask" if scheduler else "local")
    if eng not in ("local", "dask"):
        raise UserError(f"unknown engine {eng!r}: use local or dask")
    if scheduler and eng != "dask":
        raise UserError("--scheduler needs --engine dask")
    result = analyze(
        captures,
        engine=eng,
        scheduler=scheduler,
        workdir=workdir,
        workers=workers,
        vantage=v,
        progress_stream=sys.stderr,
        reduce="sequential" if partitions == 1 else "auto",
        partitions=partitions,
    )
    if not any(f.status == "ok" for f in result.files):
        raise UserError(
            "no readable capture among the inputs: " + "; ".join(f.error or f.path for f in result.files)
        )
    read = [f for f in result.files if f.status == "ok"]
    print(
        f"mipsniff: {len(read)} file(s) read as one capture of {sum(f.packets for f in read):,} packets"
        f" ({sum(f.reused for f in read)} from the workdir; {len(result.files) - len(read)} duplicate or"
        f" unreadable); map {result.map_s:.1f} s, reduce {result.reduce_s:.1f} s"
        f" ({result.reduce_partitions} partition{'s' if result.reduce_partitions > 1 else ''})",
        file=sys.stderr,
    )
    for w in result.warnings:
        print(f"mipsniff: warning: {w.kind}: {w.detail}", file=sys.stderr)
    if csv_dir is not None:
        from mipsniff.report.export import write_csv

        write_csv(result.report, csv_dir)
    if as_json:
        text = result.to_json()
        if output is None:
            sys.stdout.write(text)
        else:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        return result
    from rich.console import Console

    from mipsniff.report.terminal import render

    if output is None:
        render(result.report, Console())
    else:
        with open(output, "w", encoding="utf-8") as fh:
            render(result.report, Console(file=fh, width=120, color_system=None))
    return result
