"""Scale out on Dask: batches of files and lazy stacks restored across processes, GPUs and machines.

Dask is optional (``pip install "napari-dip[distributed]"``): this module
imports it only inside its functions, so ``import napari_dip`` and the serial
command line work without it.

* :func:`run_batch` runs the command line's batch on a ``LocalCluster``
  (``--workers N``) or on a running cluster (``--scheduler ADDRESS``). Every image,
  volume (``--stack 3d``) or slice (``--stack slices``) is one task; a stack
  restored with warm starts (``--stack warm``) or whose slices are fitted with
  their neighbours (``--context``, by default when denoising) is one task, its slices in order. This process reads the inputs and writes the outputs
  (atomically), so workers need no access to the files (only ``--save-every``
  snapshots are written by the workers), and a task whose worker dies is re-run
  by Dask with nothing half-written.
* :func:`napari_dip.batch.arrays.map_blocks` restores a dask (or numpy)
  array slice by slice and returns a lazy dask array.

A fit's result depends on its seed, its device and its number of CPU threads
(the fit's ``threads`` setting), not on the process it runs in, so a
distributed run equals a serial one with the same ``--threads``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_dip.batch.files import ImageFile
from napari_dip.core.validation import InputError

INSTALL_HINT = 'install it with `pip install "napari-dip[distributed]"`'
#: How long to try to reach the scheduler given by --scheduler.
CONNECT_TIMEOUT = "20s"
#: Seconds to wait for a worker to join a cluster given by --scheduler.
WORKER_TIMEOUT = 60


def require_dask(module: str = "distributed") -> None:
    """Import ``module`` (``"distributed"`` or ``"dask.array"``); an ImportError that says how to install it."""
    try:
        __import__(module)
    except ImportError as exc:
        raise ImportError(f"{module} is not installed ({exc}): {INSTALL_HINT}.") from exc


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """CPU threads per fit for each of ``workers`` processes sharing ``cores`` (default: this machine's) cores."""
    from napari_dip.core.runtime.threads import usable_cores

    return max(1, (cores or usable_cores()) // workers)


def gpu_environments(workers: int, gpus: int) -> list[dict[str, str]]:
    """One ``CUDA_VISIBLE_DEVICES`` per worker process: worker i sees GPU ``i % gpus`` only."""
    return [{"CUDA_VISIBLE_DEVICES": str(i % gpus)} for i in range(workers)]


def local_cluster(workers: int, device: str = "auto", quiet: bool = False) -> Any:
    """A cluster of ``workers`` processes on this machine, each running one fit at a time.

    With several CUDA GPUs (and ``device`` "auto" or "cuda") each worker gets
    one GPU: through dask-cuda's ``LocalCUDACluster`` when installed, else
    through ``CUDA_VISIBLE_DEVICES`` per worker. The workers start without
    Dask's default ``MALLOC_TRIM_THRESHOLD_``, which makes small fits about
    1.7x slower (every large tensor then costs a fresh memory mapping).
    """
    import dask

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return _start_cluster(workers, device, logging.CRITICAL if quiet else logging.ERROR)


def _start_cluster(workers: int, device: str, log_level: int) -> Any:
    from distributed import LocalCluster

    gpus = 0
    if str(device).split(":")[0] in ("auto", "cuda"):
        import torch

        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    quiet = {"dashboard_address": None, "silence_logs": log_level}
    if gpus > 1:
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError:
            from distributed import Nanny, Scheduler, SpecCluster

            specs = {i: {"cls": Nanny, "options": {"nthreads": 1, "env": env}}
                     for i, env in enumerate(gpu_environments(workers, gpus))}
            scheduler = {"cls": Scheduler, "options": {"dashboard_address": None}}
            return SpecCluster(workers=specs, scheduler=scheduler, silence_logs=log_level)
        return LocalCUDACluster(n_workers=min(workers, gpus), threads_per_worker=1, **quiet)
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, **quiet)


def check_address(address: str) -> None:
    """Refuse a --scheduler value that is no scheduler address, before any cluster is contacted."""
    from distributed.comm import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address, strict=False)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise InputError(f"--scheduler {address}: not a scheduler address ({exc}): give tcp://HOST:PORT, as "
                         "`dask scheduler` prints it.") from exc


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None, device: str = "auto",
                quiet: bool = False) -> Iterator[Any]:
    """A ``distributed.Client`` on a new local cluster of ``workers`` processes, or on the cluster at ``scheduler``.

    ``quiet`` also silences the cluster's own error logs (workers that lose a connection while shutting down).
    """
    from distributed import Client

    if not scheduler:
        with local_cluster(workers or 1, device, quiet) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--scheduler {scheduler}: cannot connect ({exc}): check the address (tcp://HOST:PORT) "
                         "and that `dask scheduler` runs there.") from exc
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except TimeoutError as exc:
            raise InputError(f"--scheduler {scheduler}: no worker joined in {WORKER_TIMEOUT} s: start one with "
                             f"`dask worker {scheduler}`.") from exc
        yield client


def fit_chain(args: argparse.Namespace, images: list[np.ndarray], pieces: list, axis: int | None, options: dict,
              threads: int | None) -> tuple[list[list[np.ndarray]], Any, dict]:
    """The task run on a worker: restore ``pieces`` in order (one, or a warm-started stack), with ``threads`` each.

    ``threads=None`` shares the worker machine's cores among the worker's task
    slots. Returns the pieces' outputs, the last fit's history and the first fit's settings.
    """
    from napari_dip.batch.serial import restore_pieces

    if threads is None:
        from distributed import get_worker

        threads = threads_per_worker(get_worker().state.nthreads)
    return restore_pieces(args, images, pieces, axis, {**options, "threads": threads})


def failure_message(source: Path, exc: BaseException) -> str:
    """One line for an input whose task failed."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (f"{source}: the workers restoring it died repeatedly (out of memory?): rerun it alone, with fewer "
                "--workers or a smaller image.")
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, ValueError):  # the engine's validation messages
        return f"{source}: {exc}"
    return f"{source}: {type(exc).__name__}: {exc} (rerun this input without --workers / --scheduler to debug it)"


@dataclass
class InputState:
    """One input of a distributed batch: its image, the results of its slices so far, its tasks."""

    source: Path
    outputs: list[Path]
    image: ImageFile
    count: int
    start: float = field(default_factory=time.perf_counter)
    results: dict[int, list[np.ndarray]] = field(default_factory=dict)
    futures: list = field(default_factory=list)
    history: Any = None
    settings: dict = field(default_factory=dict)
    failed: bool = False


class DaskBatch:
    """The inputs of one batch on a Dask client: read a few ahead, one task per piece or chain, written as done."""

    def __init__(self, args: argparse.Namespace, jobs: list[tuple[Path, list[Path]]], extra: ImageFile | None,
                 options: dict, client: Any, bar: Any):
        from distributed import as_completed

        self.args, self.extra, self.options, self.client, self.bar = args, extra, options, client, bar
        self.fit_args = argparse.Namespace(**{**vars(args), "quiet": True})  # no per-iteration bars in the workers
        self.threads = args.threads or (threads_per_worker(args.workers) if args.workers else None)
        self.todo = iter(jobs)
        self.owners: dict[Any, tuple[InputState, list[int]]] = {}
        self.ahead = max(4, 2 * len(client.scheduler_info()["workers"]))
        self.queue = as_completed()
        self.failed = 0

    def report(self, message: str) -> None:
        self.bar.write(f"napari-dip: error: {message}", file=sys.stderr)

    def submit_more(self) -> None:
        """Read and submit inputs until enough tasks are queued (an input that cannot be read is reported)."""
        from napari_dip.batch.pieces import open_input

        while self.queue.count() < self.ahead:
            job = next(self.todo, None)
            if job is None:
                return
            try:
                image, pieces = open_input(self.args, *job, self.extra, self.options.get("output_dtype", "input"))
            except InputError as exc:
                self.report(str(exc))
                self.failed += 1
                continue
            self.submit(InputState(*job, image, len(pieces)), pieces)

    def submit(self, state: InputState, pieces: list) -> None:
        """One task per piece, or one chain of fits for a warm-started stack or one whose slices see their
        neighbours (``--context``)."""
        from napari_dip.batch.pieces import layout

        shape = layout(self.args, state.image)
        whole = self.args.stack == "warm" or self.options.get("context")  # slices fitted with their neighbours
        chains = [list(range(len(pieces)))] if whole else [[k] for k in range(len(pieces))]
        self.bar.total += len(chains)
        self.bar.refresh()
        for chain in chains:
            future = self.client.submit(fit_chain, self.fit_args, [state.image.data[pieces[k].index] for k in chain],
                                        [pieces[k] for k in chain], shape.axis, {**self.options, **shape.options},
                                        self.threads, pure=False)
            self.owners[future] = (state, chain)
            state.futures.append(future)
            self.queue.add(future)

    def done(self, future: Any) -> None:
        """Collect a finished task; write its input's outputs once all its pieces are in."""
        state, chain = self.owners.pop(future)
        self.bar.update(1)
        if state.failed:
            return
        if future.status == "error":
            state.failed, self.failed = True, self.failed + 1
            self.client.cancel([f for f in state.futures if not f.done()])
            self.report(failure_message(state.source, future.exception()))
        elif future.status == "finished":
            outputs, history, settings = future.result()
            state.results.update(zip(chain, outputs, strict=True))
            state.history, state.settings = history, state.settings or settings
            if len(state.results) == state.count:
                self.write(state)

    def write(self, state: InputState) -> None:
        from napari_dip.batch.pieces import write_results
        from napari_dip.batch.serial import recorded, summary

        try:
            write_results(self.args, state.image, state.outputs, [state.results[i] for i in range(state.count)],
                          recorded(state.settings, state.history))
        except InputError as exc:
            state.failed, self.failed = True, self.failed + 1
            self.report(str(exc))
        else:
            if not self.args.quiet:
                line = summary(state.outputs[0], state.count, state.settings, state.history, state.start)
                self.bar.write(f"napari-dip: {line}", file=sys.stdout)
        state.results.clear()


def run_batch(args: argparse.Namespace, jobs: list[tuple[Path, list[Path]]], extra: ImageFile | None,
              options: dict) -> int:
    """Restore ``jobs`` (input, outputs) on Dask, one task per piece or chain; return the number of failed inputs.

    A few inputs are read and submitted ahead of the workers, the rest as tasks
    finish, so memory stays bounded. An input whose task fails is reported and
    its other tasks are cancelled; the other inputs finish. The progress bar
    counts finished tasks.
    """
    from tqdm.auto import tqdm

    with dask_client(args.workers, args.scheduler, options.get("device", "auto"), args.quiet) as client, \
            tqdm(total=0, desc="napari-dip", unit="task", disable=args.quiet, dynamic_ncols=True) as bar:
        batch = DaskBatch(args, jobs, extra, options, client, bar)
        batch.submit_more()
        for future in batch.queue:
            batch.done(future)
            batch.submit_more()
    return batch.failed
