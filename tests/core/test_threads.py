"""The thread policy: all cores but one by default, a fit's own count while it runs, restored after."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_dip.core import threads
from napari_dip.core.tasks import prepare_denoise


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
    assert task.settings["threads"] == threads.default_threads()


def test_threads_below_one_refused():
    with pytest.raises(ValueError, match="threads=0"):
        prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu", threads=0)
