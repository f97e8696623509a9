"""``threads="adaptive"``: a fit that measures which thread count is faster right now, and keeps switching.

On an idle 2-core machine a fit with both cores runs 1.4x faster than with
one; next to one core-hungry process the same 2 threads run 2.5-3.2x slower
than one, because every parallel region waits for the thread that shares a
core (benchmarks/speed.py, ``--parts load``). No count fits both, and the
load changes while a fit runs (napari drawing, a second fit, a browser).
:class:`ThreadGovernor` times a few iterations with each candidate count,
runs the faster for a while, and measures again; it also measures again at
once when the pace of the chosen count falls well behind what it measured.

A fit's result depends on its thread count (sums split over other threads
round differently), so an adaptive fit is not repeatable bit for bit; pass a
number of threads for that.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

from napari_dip.core.runtime.threads import usable_cores

ADAPTIVE = "adaptive"


def candidate_counts(cores: int | None = None) -> tuple[int, ...]:
    """The thread counts an adaptive fit chooses between: all cores, and all but one (one core: just 1)."""
    cores = usable_cores() if cores is None else cores
    return (cores, cores - 1) if cores > 1 else (1,)


class ThreadGovernor:
    """Picks, iteration by iteration, the faster of ``counts`` threads from measured iteration times.

    Call :meth:`tick` once per iteration, after it; it returns the thread count for the next one.
    Each measurement skips ``settle`` iterations after a switch and takes the median of the next
    ``probe``; the faster count then runs ``hold`` iterations, or until its median pace over the
    last ``probe`` iterations is ``slack`` times what it measured. Each time the same count wins
    again the hold doubles, up to ``max_hold``: on a steadily busy machine the measurements of the
    slow count cost less and less; a new winner starts again from ``hold``.
    """

    def __init__(self, counts: Sequence[int], *, probe: int = 5, settle: int = 1, hold: int = 150,
                 max_hold: int = 1200, slack: float = 1.5, clock: Callable[[], float] = time.perf_counter):
        self.counts = tuple(counts)
        self.probe, self.settle, self.slack = probe, settle, slack
        self.first_hold, self.max_hold, self.hold = hold, max_hold, hold
        self._winner: int | None = None
        self._clock = clock
        self._last = clock()
        self.paces: dict[int, float] = {}  # median seconds per iteration of each count, last measured
        self._queue = list(self.counts)  # counts still to measure in this round
        self.current = self._queue[0]
        self._times: list[float] = []  # iteration times since the current count began
        self.switches = 0

    def tick(self) -> int:
        """Record the iteration that just ended; return the thread count for the next one."""
        now = self._clock()
        self._times.append(now - self._last)
        self._last = now
        measured = len(self._times) - self.settle  # iterations timed since the current count settled
        if self._queue:  # measuring
            if measured >= self.probe:
                self.paces[self.current] = statistics.median(self._times[self.settle:])
                self._queue.pop(0)
                if self._queue:
                    self._switch(self._queue[0])
                else:
                    self._choose(min(self.paces, key=self.paces.get))
        elif measured >= self.hold or (
                measured >= self.probe
                and statistics.median(self._times[-self.probe:]) > self.slack * self.paces[self.current]):
            self._queue = [self.current, *(c for c in self.counts if c != self.current)]
            self._switch(self.current)
        return self.current

    def _choose(self, winner: int) -> None:
        """Run ``winner`` after a round of measurements, for a hold that doubles while it keeps winning."""
        self.hold = min(2 * self.hold, self.max_hold) if winner == self._winner else self.first_hold
        self._winner = winner
        self._switch(winner)

    def _switch(self, count: int) -> None:
        self.switches += count != self.current
        self.current = count
        self._times = []
