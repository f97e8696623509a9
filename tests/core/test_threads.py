"""The thread policy: adaptive by default (a count with OMP_NUM_THREADS), a fit's own count while it runs, restored
after."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_dip.core.runtime import threads
from napari_dip.core.tasks.prepare import prepare_denoise


def test_default_leaves_one_core(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    assert threads.default_threads() == 7
    monkeypatch.setattr(threads, "usable_cores", lambda: 1)
    assert threads.default_threads() == 1


def test_omp_num_threads_wins(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    assert threads.default_threads() == 3


def test_fit_runs_with_its_threads_and_restores_them():
    before = torch.get_num_threads()
    seen = []
    task = prepare_denoise(np.random.default_rng(0).random((16, 16)), preset="fast", iterations=3, device="cpu",
                           threads=1)
    task.run(lambda record: seen.append(torch.get_num_threads()))
    assert seen == [1, 1, 1]
    assert torch.get_num_threads() == before
    assert task.settings["threads"] == 1


def test_default_threads_recorded(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    task = prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu")
    assert task.settings["threads"] == "adaptive"
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    task = prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu")
    assert task.settings["threads"] == 2


def test_a_fit_with_no_count_given_tries_both_counts(monkeypatch):
    """Even on a one-core machine: the governor is given two cores to choose between, and must measure both."""
    from napari_dip.core.runtime import adaptive_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(adaptive_threads, "usable_cores", lambda: 2)
    task = prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=30, device="cpu", auto_stop=False)
    task.run()
    used = task.fit.history.thread_iterations
    assert sum(used.values()) == 30 and set(used) == {1, 2}
    assert min(used.values()) >= 6  # each count ran its settling iteration and 5 timed ones


def test_threads_below_one_refused():
    with pytest.raises(ValueError, match="threads=0"):
        prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu", threads=0)
