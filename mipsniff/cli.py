"""The `mipsniff` command line: parse arguments, call the library, render. No protocol logic here.

Every command lives in this file as one function; shared output options are defined once below.
User errors (`UserError`) print one line and exit 2; a traceback only with `--debug`.
"""

from __future__ import annotations

import sys

import typer

from mipsniff import __version__
from mipsniff.errors import UserError

app = typer.Typer(
    name="mipsniff",
    help="Analyze Mobile IPv6 handovers in packet captures and on live interfaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mipsniff {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    _state["debug"] = debug


# --- commands ---------------------------------------------------------------------------------------
# Each command below is added by the module that owns it; keep each one a thin wrapper.


@app.command("show")
def show(
    capture: str = typer.Argument(..., help="A pcap or pcapng file, optionally gzip-compressed."),
    all_packets: bool = typer.Option(False, "--all", help="Every packet, not only the mobility-relevant ones."),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines, one object per packet (schema in README)."),
    count: int | None = typer.Option(None, "--count", "-c", min=1, help="Stop after N packets."),
    strict: bool = typer.Option(False, "--strict", help="Re-raise dissector bugs instead of recording them."),
) -> None:
    """One line per mobility-relevant packet (ND, Mobility Header, HAO/RH2, tunnels, ICMPv6 errors, 802.11)."""
    from itertools import islice

    from dissectors.prefilter import Prefilter
    from mipsniff.capture import open_capture
    from mipsniff.report.show import json_line, packet_line, show_records

    try:
        with open_capture(capture) as reader:
            frames = reader.iter_relevant(None if all_packets else Prefilter(), background=None)
            out, batch = sys.stdout, []
            for frame, rec in islice(show_records(frames, strict=strict), count):
                if as_json:
                    batch.append(json_line(rec))
                else:
                    batch.append(packet_line(rec, reader.first_ts_ns, frame.ts_ns))
                if len(batch) >= 512:
                    out.write("\n".join(batch) + "\n")
                    batch.clear()
            if batch:
                out.write("\n".join(batch) + "\n")
            out.flush()
            for w in reader.warnings:
                typer.echo(f"mipsniff: warning: {w}", err=True)
    except UserError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"mipsniff: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


@app.command("report")
def report(
    captures: list[str] = typer.Argument(..., metavar="CAPTURE", help="pcap/pcapng files (gzip or not), directories or globs; several are one capture, ordered by first timestamp."),
    as_json: bool = typer.Option(False, "--json", help="Write the JSON report (the documented contract)."),
    csv_dir: str | None = typer.Option(None, "--csv", help="Also write handovers.csv, bindings.csv, packets.csv here."),
    vantage: str = typer.Option("auto", "--vantage", help="Capture point: mn, ha or auto."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write the report to this file, not stdout."),
    engine: str | None = typer.Option(None, "--engine", help="local (a process pool over the files) or dask."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786."),
    workdir: str | None = typer.Option(None, "--workdir", help="Keep the per-file Parquet here; reused while a file's content is unchanged."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Processes (local) or LocalCluster workers (dask); default: all cores."),
    partitions: int | None = typer.Option(None, "--partitions", min=1, help="Reduce in N parallel partitions by home address (several MNs); 1: one process; default: the workers."),
    html: str | None = typer.Option(None, "--html", help="Also write one self-contained HTML page (tables, ladder and RTT figures) here."),
) -> None:
    """Every handover of every mobile node: timeline, latency breakdown, loss, RTT before/after, failures."""
    import os

    capture = captures[0]
    try:
        # One plain file without engine options is the single-process path: decided before importing the
        # multi-file machinery (pandas, pyarrow: ~0.2 s and ~58 MB), which that path never needs.
        single = (len(captures) == 1 and os.path.isfile(capture) and partitions is None
                  and engine is None and scheduler is None and workdir is None)
        if not single:  # many files: map per file, then reduce
            from mipsniff.multi.cli_run import run_multi_report

            run_multi_report(captures, as_json=as_json, csv_dir=csv_dir, vantage=vantage, output=output,
                             engine=engine, scheduler=scheduler, workdir=workdir, workers=workers,
                             partitions=partitions)
            return
        from mipsniff.report.cli_run import run_report

        result = run_report(capture, as_json=as_json, csv_dir=csv_dir, vantage=vantage, output=output)
        if html is not None:
            from mipsniff.report.html import report_html

            with open(html, "w", encoding="utf-8") as fh:
                fh.write(report_html(capture, result, vantage=vantage))
    except UserError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"mipsniff: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


@app.command("plot")
def plot(
    capture: str = typer.Argument(..., help="A capture (pcap/pcapng) or a report JSON (`report --json`, `to_json`)."),
    kind: str = typer.Option(..., "--kind", "-k", help="ladder | rtt | stream | breakdown | cdf"),
    handover: int | None = typer.Option(None, "--handover", "-n", help="Handover index (0-based) for ladder/rtt/stream."),
    output: str = typer.Option(..., "--output", "-o", help="Image file; the suffix picks the format: .png, .svg or .pdf."),
    vantage: str = typer.Option("auto", "--vantage", help="Capture point: mn, ha or auto."),
) -> None:
    """Draw one handover figure (ladder diagram, RTT, stream continuity, latency breakdown or CDF)."""
    from mipsniff.report.figures import figure_for, root_figure

    ax = figure_for(capture, kind=kind, handover=handover, output=output, vantage=vantage)
    root_figure(ax).savefig(output)
    typer.echo(output)


@app.command("live")
def live(
    iface: str = typer.Argument(..., help="Interface to capture on (e.g. wlan0)."),
    write: str | None = typer.Option(None, "--write", "-w", help="Also save the capture to this pcap file."),
    duration: float | None = typer.Option(None, "--duration", help="Stop after this many seconds."),
    count: int | None = typer.Option(None, "--count", "-c", help="Stop after this many packets."),
    as_json: bool = typer.Option(False, "--json", help="Print the final report as JSON (events go to stderr)."),
    backend: str = typer.Option("raw", "--backend", help="raw (AF_PACKET socket) or tshark (dumpcap)."),
    bpf: str | None = typer.Option(None, "--bpf", help="Also capture what this pcap-filter expression matches."),
    home_address: list[str] = typer.Option([], "--home-address", help="A mobile node's home address (repeatable)."),
    vantage: str = typer.Option("auto", "--vantage", help="Capture point: mn, ha or auto."),
) -> None:
    """Capture live, print handover events as they happen; Ctrl-C ends with the full report."""
    from mipsniff.capture.live_view import live_main

    if backend not in ("raw", "tshark"):
        raise UserError(f"unknown backend {backend!r}: use raw or tshark")
    live_main(iface, write=write, duration_s=duration, count=count, as_json=as_json, backend=backend, bpf=bpf,
              home_addresses=tuple(home_address), vantage=vantage)


@app.command("lab")
def lab(
    action: str = typer.Argument(..., help="up | move | status | down | truth"),
    cell: str | None = typer.Argument(None, help="For `move`: home or remote."),
    delay_ms: int = typer.Option(0, "--delay", help="For `up`: extra one-way delay (ms) on the HA-MN tunnel."),
    gap_ms: int = typer.Option(200, "--gap", help="For `move`: how long wlan0 stays down (ms)."),
    output: str | None = typer.Option(None, "--output", "-o", help="For `truth`: write the JSON here."),
) -> None:
    """The article's testbed in network namespaces: radvd, the agent's MN and HA, telnet localhost 7777."""
    from mipsniff.lab import cli_actions

    for line in cli_actions.run(action, cell=cell, delay_ms=delay_ms, gap_ms=gap_ms, output=output):
        typer.echo(line)


@app.command("synth")
def synth(
    scenario: str | None = typer.Argument(None, help="Scenario name (see --list)."),
    output: str | None = typer.Option(None, "--output", "-o", help="Capture to write; FILE.truth.json goes beside it."),
    seed: int = typer.Option(1, "--seed", help="Random seed: same seed, same bytes."),
    vantage: str | None = typer.Option(None, "--vantage", help="Capture point: mn, ha or both (pcapng)."),
    settings: list[str] = typer.Option([], "--set", help="Override a scenario setting: key=value (repeatable)."),
    list_: bool = typer.Option(False, "--list", help="List the scenarios with a one-line description."),
) -> None:
    """Simulate a scenario: write its capture and its ground truth (FILE.truth.json)."""
    from pathlib import Path

    from mipsniff.sim.scenarios import RANDOM_DESCRIPTION, SCENARIOS, SettingError
    from mipsniff.sim.synth import synthesize

    if list_:
        for name, sc in SCENARIOS.items():
            typer.echo(f"{name:20} {sc.summary}")
        typer.echo(f"{'random':20} {RANDOM_DESCRIPTION}")
        return
    if scenario is None or output is None:
        raise UserError("give a scenario and -o FILE.pcap (mipsniff synth --list shows the scenarios)")
    try:
        cap, truth, _ = synthesize(scenario, Path(output), seed=seed, vantage=vantage, settings=settings)
    except SettingError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from None
    typer.echo(f"{cap}\n{truth}")


def main() -> None:
    """Console-script entry point: run the app, turning `UserError` into one line and exit status 2."""
    try:
        app()
    except UserError as exc:
        if _state["debug"]:
            raise
        print(f"mipsniff: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
