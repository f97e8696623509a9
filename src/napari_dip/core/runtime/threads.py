"""How many CPU threads a fit uses.

torch's default is one OpenMP thread per core. Next to any other busy process
(napari drawing, a second fit, a browser) one of those threads shares a core,
and every parallel region of every convolution waits for it: a fit slowed
4-8x next to one core-hungry process on a 2-core machine. A fit with no
thread count given therefore runs ``"adaptive"`` (:mod:`napari_dip.core.runtime.adaptive_threads`):
whichever of all cores and all but one is faster as it runs. A fixed count
(``threads=N``, or ``OMP_NUM_THREADS`` when set) makes a seed repeat its
result bit for bit on the same machine; :func:`default_threads` is the count
where one is needed (on GPUs, and for ``"adaptive"`` off the CPU).
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


def env_threads() -> int | None:
    """The thread count ``OMP_NUM_THREADS`` asks for, or None where it is unset or not a whole number above 0."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    return int(env) if env.isdigit() and int(env) > 0 else None


def default_threads() -> int:
    """A fixed count of threads per fit: ``OMP_NUM_THREADS`` if set, else all cores but one."""
    return env_threads() or max(1, usable_cores() - 1)


def resolve_threads(threads: int | str | None) -> int | str:
    """``threads``; for None, ``OMP_NUM_THREADS`` where it is set, else ``"adaptive"`` (passed through)."""
    if threads is None:
        return env_threads() or "adaptive"
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
