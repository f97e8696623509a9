"""Scale out on Dask: batches of files and lazy stacks restored across processes, GPUs and machines.

Dask is optional (``pip install "napari-dip[distributed]"``): this module
imports it only inside its functions, so ``import napari_dip`` and the serial
command line work without it.

* :func:`run_batch` runs the command line's batch on a ``LocalCluster``
  (``--workers N``) or on a running cluster (``--scheduler ADDRESS``). Every image,
  volume (``--stack 3d``) or slice (``--stack slices``) is one task; a stack
  restored with warm starts (``--stack warm``) is one task, its slices in order. This process reads the inputs and writes the outputs
  (atomically), so workers need no access to the files (only ``--save-every``
  snapshots are written by the workers), and a task whose worker dies is re-run
  by Dask with nothing half-written.
* :func:`map_blocks` restores a dask (or numpy) array slice by slice and
  returns a lazy dask array.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_dip.batch.files import ImageFile, InputError

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


def local_cluster(workers: int, device: str = "auto") -> Any:
    """A cluster of ``workers`` processes on this machine, each running one fit at a time.

    With several CUDA GPUs (and ``device`` "auto" or "cuda") each worker gets
    one GPU: through dask-cuda's ``LocalCUDACluster`` when installed, else
    through ``CUDA_VISIBLE_DEVICES`` per worker. The workers start without
    Dask's default ``MALLOC_TRIM_THRESHOLD_``, which makes small fits about
    1.7x slower (every large tensor then costs a fresh memory mapping).
    """
    import dask

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return _start_cluster(workers, device)


def _start_cluster(workers: int, device: str) -> Any:
    from distributed import LocalCluster

    gpus = 0
    if str(device).split(":")[0] in ("auto", "cuda"):
        import torch

        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    quiet = {"dashboard_address": None, "silence_logs": logging.ERROR}
    if gpus > 1:
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError:
            from distributed import Nanny, Scheduler, SpecCluster

            specs = {i: {"cls": Nanny, "options": {"nthreads": 1, "env": env}}
                     for i, env in enumerate(gpu_environments(workers, gpus))}
            scheduler = {"cls": Scheduler, "options": {"dashboard_address": None}}
            return SpecCluster(workers=specs, scheduler=scheduler, silence_logs=logging.ERROR)
        return LocalCUDACluster(n_workers=min(workers, gpus), threads_per_worker=1, **quiet)
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, **quiet)


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None, device: str = "auto") -> Iterator[Any]:
    """A ``distributed.Client`` on a new local cluster of ``workers`` processes, or on the cluster at ``scheduler``."""
    from distributed import Client

    if not scheduler:
        with local_cluster(workers or 1, device) as cluster, Client(cluster) as client:
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
              threads: int | None) -> tuple[list[list[np.ndarray]], int, str]:
    """The task run on a worker: restore ``pieces`` in order (one, or a warm-started stack), with ``threads`` each.

    ``threads=None`` shares the worker machine's cores among the worker's task
    slots. Returns the pieces' outputs, the last fit's stop iteration and reason.
    """
    from napari_dip.batch.serial import restore_pieces

    if threads is None:
        from distributed import get_worker

        threads = threads_per_worker(get_worker().state.nthreads)
    results, history = restore_pieces(args, images, pieces, axis, {**options, "threads": threads})
    return results, history.stop_iteration, history.stop_reason


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
    stop: tuple[int, str] = (0, "")
    failed: bool = False


def run_batch(args: argparse.Namespace, jobs: list[tuple[Path, list[Path]]], extra: ImageFile | None,
              options: dict) -> int:
    """Restore ``jobs`` (input, outputs) on Dask, one task per piece or chain; return the number of failed inputs.

    A few inputs are read and submitted ahead of the workers, the rest as tasks
    finish, so memory stays bounded. An input whose task fails is reported and
    its other tasks are cancelled; the other inputs finish. The progress bar
    counts finished tasks.
    """
    from distributed import as_completed
    from tqdm.auto import tqdm

    from napari_dip.batch.serial import layout, open_input, summary, write_results

    fit_args = argparse.Namespace(**{**vars(args), "quiet": True})  # no per-iteration bars in the workers
    threads = args.threads or (threads_per_worker(args.workers) if args.workers else None)
    failed = 0
    todo = iter(jobs)
    owners: dict[Any, tuple[InputState, int]] = {}
    with dask_client(args.workers, args.scheduler, options.get("device", "auto")) as client, \
            tqdm(total=0, desc="napari-dip", unit="task", disable=args.quiet, dynamic_ncols=True) as bar:
        ahead = max(4, 2 * len(client.scheduler_info()["workers"]))
        queue = as_completed()

        def report(message: str) -> None:
            bar.write(f"napari-dip: error: {message}", file=sys.stderr)

        def submit_more() -> None:
            nonlocal failed
            while queue.count() < ahead:
                job = next(todo, None)
                if job is None:
                    return
                try:
                    image, pieces = open_input(args, *job, extra)
                except InputError as exc:
                    report(str(exc))
                    failed += 1
                    continue
                state = InputState(*job, image, len(pieces))
                shape = layout(args, image)
                # A warm-started stack is one chain of fits; otherwise every piece is a task of its own.
                chains = [list(range(len(pieces)))] if getattr(args, "stack", "slices") == "warm" else [[k] for k in range(len(pieces))]
                bar.total += len(chains)
                bar.refresh()
                for chain in chains:
                    future = client.submit(fit_chain, fit_args, [image.data[pieces[k].index] for k in chain],
                                           [pieces[k] for k in chain], shape.axis, {**options, **shape.options},
                                           threads, pure=False)
                    owners[future] = (state, chain)
                    state.futures.append(future)
                    queue.add(future)

        submit_more()
        for future in queue:
            state, chain = owners.pop(future)
            bar.update(1)
            if not state.failed and future.status == "error":
                state.failed, failed = True, failed + 1
                client.cancel([f for f in state.futures if not f.done()])
                report(failure_message(state.source, future.exception()))
            elif not state.failed and future.status == "finished":
                outputs, iterations, reason = future.result()
                state.results.update(zip(chain, outputs, strict=True))
                state.stop = (iterations, reason)
                if len(state.results) == state.count:
                    try:
                        write_results(args, state.image, state.outputs,
                                      [state.results[i] for i in range(state.count)])
                    except InputError as exc:
                        state.failed, failed = True, failed + 1
                        report(str(exc))
                    else:
                        if not args.quiet:
                            bar.write(f"napari-dip: {summary(state.outputs[0], state.count, *state.stop, state.start)}",
                                      file=sys.stdout)
                    state.results.clear()
            submit_more()
    return failed


def _restore_block(block: np.ndarray, *, function: Callable[..., Any], lead: int, colour: bool,
                   kwargs: dict) -> np.ndarray:
    """Restore the one slice in ``block`` (shape ``(1, ..., 1, Y, X[, C])``)."""
    plane = block.reshape(block.shape[lead:])
    result = function(plane, channel_axis=2 if colour else None, **kwargs)
    if isinstance(result, tuple):  # enhance: (coarse, fine, enhanced)
        result = result[2]
    return result.reshape((1,) * lead + result.shape)


def map_blocks(task: str | Callable[..., Any], array: Any, *, channel_axis: int | None = None,
               **kwargs: Any) -> Any:
    """Restore ``array`` slice by slice, lazily; return a dask array of the results.

    Parameters
    ----------
    task : str or callable
        ``"denoise"``, ``"jpeg"``, ``"super_resolution"``, ``"inpaint"``,
        ``"enhance"`` (gives the enhanced image) or ``"flash"``; or a function
        such as ``napari_dip.denoise`` called as ``task(slice, channel_axis=...,
        **kwargs)`` that returns an image of the slice's shape.
    array : numpy.ndarray or dask.array.Array
        Images of shape ``(..., Y, X)``, or with a colour axis. Every leading
        axis is a slice axis; each slice is one task and is read only when
        the result is computed (a lazily opened stack stays lazy).
    channel_axis : int, optional
        The colour axis of ``array`` (None: grey).
    **kwargs
        The task's keywords (``seed``, ``preset``, ``iterations``, ``factor``,
        ``threads``: CPU threads per fit, on which results depend, ...); ``mask=`` (inpaint) and ``flash=`` (flash) take one image used
        for every slice. Every slice is fitted with the same seed.

    Returns
    -------
    dask.array.Array
        The restored slices, in ``array``'s dtype and layout; super-resolution
        multiplies Y and X by ``factor``. Nothing is computed until you call
        ``.compute()`` (or napari displays a slice).
    """
    require_dask("dask.array")
    import dask.array as da

    from napari_dip.core import api

    functions = {"denoise": api.denoise, "jpeg": api.restore_jpeg, "super_resolution": api.super_resolve,
                 "inpaint": api.inpaint, "enhance": api.enhance, "flash": api.flash_no_flash}
    if isinstance(task, str) and task not in functions:
        raise ValueError(f"task={task!r}: choose one of {', '.join(functions)}, or pass a function.")
    function = functions[task] if isinstance(task, str) else task
    if not callable(function):
        raise ValueError(f"task={task!r}: pass a task name such as 'denoise' or a function of one image.")
    data = array if isinstance(array, da.Array) else da.from_array(np.asarray(array))
    colour = channel_axis is not None
    if colour:
        if not -data.ndim <= channel_axis < data.ndim:
            raise ValueError(f"channel_axis={channel_axis} is outside an array of {data.ndim} dimensions.")
        data = da.moveaxis(data, channel_axis, -1)
    lead = data.ndim - (3 if colour else 2)
    if lead < 0:
        raise ValueError(f"an array of shape {data.shape} has no {'colour ' if colour else ''}images: pass "
                         "(..., Y, X) or (..., Y, X, C) with channel_axis.")
    data = data.rechunk((1,) * lead + data.shape[lead:])
    factor = kwargs.get("factor", 4) if function is api.super_resolve else 1
    plane = tuple((size * factor,) for size in data.shape[lead:lead + 2]) + (((data.shape[-1],),) if colour else ())
    result = data.map_blocks(_restore_block, function=function, lead=lead, colour=colour, kwargs=kwargs,
                             chunks=data.chunks[:lead] + plane, dtype=data.dtype,
                             meta=np.empty((0,) * data.ndim, data.dtype))
    return da.moveaxis(result, -1, channel_axis) if colour else result

