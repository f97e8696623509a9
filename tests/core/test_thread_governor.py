"""threads="adaptive": the governor's choice from measured iteration times, and a fit that uses it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_dip.core.runtime import adaptive_threads as thread_governor
from napari_dip.core.runtime.adaptive_threads import ThreadGovernor, candidate_counts
from napari_dip.core.tasks.prepare import prepare_denoise


class FakeClock:
    """A clock whose iterations take ``pace[threads]`` seconds, for the count the governor last chose."""

    def __init__(self, pace: dict[int, float]):
        self.pace, self.now, self.threads = pace, 0.0, None

    def __call__(self) -> float:
        return self.now

    def run(self, governor: ThreadGovernor, iterations: int) -> list[int]:
        chosen = []
        for _ in range(iterations):
            self.now += self.pace[governor.current]
            chosen.append(governor.tick())
        return chosen


def test_candidates_are_all_cores_and_one_fewer():
    assert candidate_counts(2) == (2, 1)
    assert candidate_counts(16) == (16, 15)
    assert candidate_counts(1) == (1,)


@pytest.mark.parametrize(("pace", "faster"), [({2: 0.04, 1: 0.06}, 2), ({2: 0.15, 1: 0.06}, 1)])
def test_governor_keeps_the_faster_count(pace, faster):
    clock = FakeClock(pace)
    governor = ThreadGovernor((2, 1), probe=5, settle=1, hold=100, clock=clock)
    chosen = clock.run(governor, 100)
    assert chosen[20:] == [faster] * 80  # both measured within the first 12 iterations, then the faster one
    assert governor.paces == pytest.approx(pace)


def test_governor_measures_again_when_load_arrives_and_leaves():
    clock = FakeClock({2: 0.04, 1: 0.06})
    governor = ThreadGovernor((2, 1), probe=5, settle=1, hold=1000, max_hold=1000, clock=clock)
    assert clock.run(governor, 30)[-1] == 2
    clock.pace = {2: 0.15, 1: 0.06}  # a busy process starts: 2 threads become the slow choice
    assert clock.run(governor, 30)[-1] == 1
    clock.pace = {2: 0.04, 1: 0.06}  # it ends: only the periodic measurement can tell
    assert clock.run(governor, 1000)[-1] == 2


def test_hold_doubles_while_the_same_count_wins():
    clock = FakeClock({2: 0.15, 1: 0.06})
    governor = ThreadGovernor((2, 1), probe=5, settle=1, hold=100, max_hold=400, clock=clock)
    chosen = clock.run(governor, 2000)
    # A round measures 1 thread, then 2, 6 iterations each (one settling); 1 thread then runs its hold (+1 settling).
    # Between the starts of two measurements of 2 threads: 6 at 2, the hold at 1, 6 at 1.
    starts = [k for k in range(1, len(chosen)) if chosen[k] == 2 and chosen[k - 1] == 1]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert 2 not in chosen[12:113]  # the first hold: 100 iterations
    assert gaps[0] == 6 + 201 + 6 and set(gaps[1:]) == {6 + 401 + 6}  # doubled, then capped at 400
    clock.pace = {2: 0.04, 1: 0.06}  # a new winner starts again from the first hold
    clock.run(governor, 500)
    assert governor.current == 2 and governor.hold == 100


def test_one_core_never_switches():
    clock = FakeClock({1: 0.05})
    governor = ThreadGovernor((1,), hold=10, clock=clock)
    assert set(clock.run(governor, 50)) == {1}
    assert governor.switches == 0


def test_adaptive_fit_counts_its_threads_and_restores_them(monkeypatch):
    monkeypatch.setattr(thread_governor, "usable_cores", lambda: 2)
    before = torch.get_num_threads()
    seen = []
    task = prepare_denoise(np.random.default_rng(0).random((16, 16)), preset="fast", iterations=30, device="cpu",
                           threads="adaptive", auto_stop=False)
    task.run(lambda record: seen.append(torch.get_num_threads()))
    assert set(seen) == {1, 2}  # both counts were measured
    assert sum(task.history.thread_iterations.values()) == 30
    used = task.history.thread_iterations
    assert used[2] >= 6 and used[1] >= 6  # each count measured in full: 1 settling + 5 timed iterations
    assert torch.get_num_threads() == before
    assert task.settings["threads"] == "adaptive"


def test_adaptive_fit_off_the_cpu_uses_the_default_count(monkeypatch):
    from contextlib import nullcontext

    from napari_dip.core.fitting import loop as fit_module
    from napari_dip.core.runtime.threads import default_threads

    asked = []
    monkeypatch.setattr(fit_module, "torch_threads", lambda count: asked.append(count) or nullcontext())
    task = prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=2, device="cpu", threads="adaptive")
    task.fit.device = torch.device("meta")  # what the loop sees on a GPU: no governor, a plain count
    monkeypatch.setattr(task.fit, "_steps", lambda governor, passes: iter(()) if governor is None else None)
    list(task.fit.steps())
    assert asked == [default_threads()]


@pytest.mark.parametrize("threads", ["auto", "2"])
def test_other_thread_strings_refused(threads):
    with pytest.raises(ValueError, match="adaptive"):
        prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu", threads=threads)
