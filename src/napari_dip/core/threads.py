"""How many CPU threads a fit uses.

torch's default is one OpenMP thread per core. Next to any other busy process
(napari drawing, a second fit, a browser) one of those threads shares a core,
and every parallel region of every convolution waits for it: a fit slowed
4-8x next to one core-hungry process on a 2-core machine. Leaving one core
free keeps a fit close to its idle speed, and depends only on the machine, so
the same seed on the same machine still gives the same result.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_threads() -> int:
    """Threads per fit when none are asked for: ``OMP_NUM_THREADS`` if set, else all cores but one."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, usable_cores() - 1)


def resolve_threads(threads: int | str | None) -> int | str:
    """``threads``, or :func:`default_threads` for None (``"adaptive"`` passes through)."""
    if threads is None:
        return default_threads()
    return threads if isinstance(threads, str) else int(threads)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the body with ``threads`` torch CPU threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
