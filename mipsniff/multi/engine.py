"""Running the map step over many files: on this machine (a process pool) or on a Dask cluster.

Both engines give the same summaries; only where the work runs differs.
- `local`: a `ProcessPoolExecutor` with one process per core (or `workers=1`: in this process).
- `dask`: `distributed` futures on a given `Client`, on a scheduler address (`tcp://host:8786`), or on a
  `LocalCluster` started for the run. Workers must see the input files and the workdir at the same paths
  (a shared file system on a real cluster).

Failures: an exception in the map step is retried (`retries` more attempts). A worker process that
dies is also retried: the local engine (at most one task per worker in flight) starts a fresh pool and
runs the tasks that were in flight one at a time, so that only the task that kills its worker is charged;
Dask's scheduler reschedules the task on another worker and gives up after
`distributed.scheduler.allowed-failures` deaths (`KilledWorker`). A file that still fails comes back as
`unreadable` with the error, and the run goes on with the others.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import IO, Any

from mipsniff.multi.files import FileStatus, FileSummary
from mipsniff.multi.mapstep import MapTask, map_file

MapFn = Callable[[MapTask], FileSummary]


@dataclass(slots=True, kw_only=True)
class Progress:
    """Files done, packets read and the rate, written to a stream (stderr) as map tasks finish."""

    total_files: int
    stream: IO[str] | None = None
    label: str = "files"
    files_done: int = 0
    packets: int = 0
    reused: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    def update(self, s: FileSummary) -> None:
        self.files_done += 1
        if s.status is FileStatus.unreadable:
            self.failed += 1
        elif s.reused:
            self.reused += 1
        else:
            self.packets += s.packets
        if self.stream is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        line = (
            f"mipsniff: {self.label} {self.files_done}/{self.total_files}"
            f" ({self.reused} reused, {self.failed} unreadable), "
            f"{self.packets:,} packets read, {self.packets / elapsed:,.0f} packets/s"
        )
        end = "\r" if self.stream.isatty() and self.files_done < self.total_files else "\n"
        print(line, end=end, file=self.stream, flush=True)


def _failed(task: MapTask, exc: BaseException, attempts: int) -> FileSummary:
    size = os.path.getsize(task.path) if os.path.exists(task.path) else 0
    return FileSummary(
        path=task.path,
        sha256="",
        size_bytes=size,
        status=FileStatus.unreadable,
        error=f"{type(exc).__name__}: {exc} (after {attempts} attempts)",
    )


def run_local(
    tasks: Sequence[MapTask],
    *,
    workers: int | None = None,
    retries: int = 2,
    map_fn: MapFn = map_file,
    progress: Progress | None = None,
) -> list[FileSummary]:
    """Map every task on this machine; results in task order."""
    results: dict[int, FileSummary] = {}
    n = workers or os.cpu_count() or 1
    if n == 1:
        for i, task in enumerate(tasks):
            for attempt in range(1, retries + 2):
                try:
                    results[i] = map_fn(task)
                    break
                except Exception as exc:  # noqa: BLE001 - any failure of one file is retried, then reported
                    if attempt == retries + 1:
                        results[i] = _failed(task, exc, attempt)
            if progress:
                progress.update(results[i])
        return [results[i] for i in range(len(tasks))]

    attempts = dict.fromkeys(range(len(tasks)), 0)

    def finish(i: int, summary: FileSummary) -> None:
        results[i] = summary
        if progress:
            progress.update(summary)

    queue = list(range(len(tasks)))[::-1]  # popped from the end: task order
    while queue:
        suspects = _pool_pass(tasks, queue, n, retries, map_fn, attempts, finish)
        # A worker died with these tasks in flight: run each alone, so that a death is charged to the
        # task that caused it and the others do not lose attempts.
        for i in suspects:
            while i not in results:
                if _pool_pass(tasks, [i], 1, retries, map_fn, attempts, finish):
                    attempts[i] += 1
                    if attempts[i] > retries:
                        finish(
                            i, _failed(tasks[i], BrokenProcessPool("the worker process died"), attempts[i])
                        )
    return [results[i] for i in range(len(tasks))]


def _pool_pass(
    tasks: Sequence[MapTask],
    queue: list[int],
    n: int,
    retries: int,
    map_fn: MapFn,
    attempts: dict[int, int],
    finish: Callable[[int, FileSummary], None],
) -> list[int]:
    """Run tasks from `queue` (consumed) with at most `n` in flight in one pool. Returns the tasks that
    were in flight when a worker process died (the pool is then abandoned, the rest stays queued);
    their attempt is not counted."""
    running: dict[Future[FileSummary], int] = {}
    with ProcessPoolExecutor(max_workers=min(n, len(queue))) as pool:

        def submit(i: int) -> None:
            attempts[i] += 1
            running[pool.submit(map_fn, tasks[i])] = i

        while queue and len(running) < n:
            submit(queue.pop())
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                i = running.pop(fut)
                err = fut.exception()
                if isinstance(err, BrokenProcessPool):
                    # Killed or out of memory: every task in flight fails alike; none is charged yet.
                    suspects = [i, *running.values()]
                    for j in suspects:
                        attempts[j] -= 1
                    return suspects
                if err is None:
                    finish(i, fut.result())
                elif attempts[i] > retries:
                    finish(i, _failed(tasks[i], err, attempts[i]))
                else:
                    submit(i)
                    continue
                if queue:
                    submit(queue.pop())
    return []


def run_dask(
    tasks: Sequence[MapTask],
    *,
    client: Any,
    retries: int = 2,
    map_fn: MapFn = map_file,
    progress: Progress | None = None,
) -> list[FileSummary]:
    """Map every task on a Dask cluster through `client`; results in task order."""
    from distributed import as_completed

    stamp = time.time_ns()
    futures = {}
    for i, task in enumerate(tasks):
        fut = client.submit(map_fn, task, retries=retries, pure=False, key=f"mipsniff-map-{stamp}-{i}")
        futures[fut.key] = (i, fut)
    results: dict[int, FileSummary] = {}
    for fut in as_completed([f for _, f in futures.values()]):
        i, _ = futures[fut.key]
        if fut.status == "finished":
            results[i] = fut.result()
        else:
            # An exception raised `retries + 1` times, or KilledWorker after the scheduler's
            # allowed-failures worker deaths while running this task.
            results[i] = _failed(tasks[i], fut.exception(), retries + 1)
        if progress:
            progress.update(results[i])
        fut.release()
    return [results[i] for i in range(len(tasks))]


def _run(
    tasks: Sequence[MapTask],
    *,
    engine: str,
    workers: int | None,
    client: Any,
    scheduler: str | None,
    retries: int,
    map_fn: MapFn,
    progress: Progress,
) -> list[FileSummary]:
    if client is not None:
        return run_dask(tasks, client=client, retries=retries, map_fn=map_fn, progress=progress)
    return run_local(tasks, workers=workers, retries=retries, map_fn=map_fn, progress=progress)


def run_map(
    paths: Sequence[str],
    workdir: str,
    *,
    engine: str = "local",
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    retries: int = 2,
    map_fn: MapFn = map_file,
    progress_stream: IO[str] | None = sys.stderr,
) -> list[FileSummary]:
    """Run both phases of the map step over `paths` with the chosen engine (relevance.py).

    Phase 2 runs only when some file's BUs/BAs named a home address; each phase-2 task returns at once
    for a file whose dropped frames never involve one.
    """
    if engine not in ("local", "dask"):
        from mipsniff.errors import UserError

        raise UserError(f"unknown engine {engine!r}: use local or dask")
    if (engine == "dask" or scheduler) and client is None:
        from distributed import Client, LocalCluster

        if scheduler:
            own = Client(scheduler)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            own = Client(cluster)
        try:
            return run_map(
                paths,
                workdir,
                engine=engine,
                client=own,
                retries=retries,
                map_fn=map_fn,
                progress_stream=progress_stream,
            )
        finally:
            own.close()
            if cluster is not None:
                cluster.close()
    kw: dict[str, Any] = dict(
        engine=engine, workers=workers, client=client, scheduler=scheduler, retries=retries, map_fn=map_fn
    )
    workdir = os.path.abspath(workdir)
    tasks = [MapTask(path=os.path.abspath(p), workdir=workdir) for p in paths]
    phase1 = _run(tasks, progress=Progress(total_files=len(tasks), stream=progress_stream), **kw)
    hoas = frozenset(a for s in phase1 if s.status is FileStatus.ok for a in s.home_addresses)
    if not hoas:
        return phase1
    todo = [i for i, s in enumerate(phase1) if s.status is FileStatus.ok]
    tasks2 = [replace(tasks[i], home_addresses=hoas, phase1=phase1[i]) for i in todo]
    progress2 = Progress(total_files=len(tasks2), stream=progress_stream, label="home-address pass")
    phase2 = _run(tasks2, progress=progress2, **kw)
    out = list(phase1)
    for i, s in zip(todo, phase2, strict=True):
        p1 = phase1[i]
        # `reused` says whether this run read the file at all, over both phases.
        out[i] = replace(s, reused=p1.reused and (s.reused or s.phase == 1), cpu_s=p1.cpu_s + s.cpu_s)
    return out


def run_tasks(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    workers: int | None = None,
    client: Any = None,
    retries: int = 2,
    label: str = "task",
) -> list[Any]:
    """Run `fn` on every task (picklable) on the local pool (`workers` processes; one task runs in this
    process) or on the Dask `client`; results in task order. A task that raises, or whose worker dies, is
    retried `retries` times; then the error is raised (the reduce's caller falls back to one process)."""
    if client is not None:
        stamp = time.time_ns()
        futs = [
            client.submit(fn, t, retries=retries, pure=False, key=f"mipsniff-{label}-{stamp}-{i}")
            for i, t in enumerate(tasks)
        ]
        try:
            return list(client.gather(futs))
        finally:
            for f in futs:
                f.release()
    if len(tasks) <= 1 or (workers or os.cpu_count() or 1) == 1:
        return [fn(t) for t in tasks]
    results: dict[int, Any] = {}
    attempts = dict.fromkeys(range(len(tasks)), 0)
    while len(results) < len(tasks):
        todo = [i for i in range(len(tasks)) if i not in results]
        with ProcessPoolExecutor(max_workers=min(workers or os.cpu_count() or 1, len(todo))) as pool:
            running = {i: pool.submit(fn, tasks[i]) for i in todo}
            for i, fut in running.items():
                attempts[i] += 1
                try:
                    results[i] = fut.result()
                except Exception:  # noqa: BLE001 - retried, then raised
                    if attempts[i] > retries:
                        raise
    return [results[i] for i in range(len(tasks))]


def dask_client(scheduler: str | None, workers: int | None) -> Any:
    """A context manager giving a `distributed.Client` on `scheduler`, or on a LocalCluster started for
    the run (`workers` processes, one thread each); both are closed on exit."""
    from contextlib import contextmanager

    @contextmanager
    def _client() -> Any:
        from distributed import Client, LocalCluster

        cluster = None
        if scheduler:
            own = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
            own = Client(cluster)
        try:
            yield own
        finally:
            own.close()
            if cluster is not None:
                cluster.close()

    return _client()


def cluster_workers(client: Any) -> int:
    """How many workers the Dask cluster behind `client` has now (at least 1)."""
    return max(1, len(client.scheduler_info().get("workers", {})))
