"""The two passes of a SURE iteration side by side on two CPU threads (core.sure_passes)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from napari_dip.core.tasks.prepare import prepare_denoise


def noisy_image(size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(3)
    clean = np.full((size, size, 3), 0.2, np.float32)
    clean[size // 4: 3 * size // 4, size // 4: 3 * size // 4] = [0.7, 0.5, 0.4]
    return np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1).astype(np.float32)


def sure_fit(threads, precision: str = "float32", **kwargs):
    return prepare_denoise(noisy_image(), preset="sure", iterations=12, auto_stop=False, threads=threads,
                           precision=precision, seed=4, **kwargs)


def pass_threads(task) -> list[str]:
    """Run ``task``; return the name of the thread of every forward pass of its network."""
    names = []
    hook = task.fit.network.register_forward_hook(lambda *_: names.append(threading.current_thread().name))
    try:
        task.run()
    finally:
        hook.remove()
    return names


def test_two_threads_run_the_probed_pass_beside_the_output_pass():
    names = pass_threads(sure_fit(2))
    assert len(names) == 24
    assert sum(name.startswith("napari-dip-probe") for name in names) == 12  # one of the two passes per iteration
    assert all(not name.startswith("napari-dip-probe") for name in pass_threads(sure_fit(1)))


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_side_by_side_passes_give_the_same_result_bit_for_bit(precision):
    one, two = sure_fit(1, precision).run()[1], sure_fit(2, precision).run()[1]
    np.testing.assert_array_equal(one.image, two.image)
    assert one.history.losses == two.history.losses


def test_a_fitted_code_keeps_the_passes_in_one_thread():
    names = pass_threads(sure_fit(2, optimize="both"))
    assert len(names) == 24 and all(not name.startswith("napari-dip-probe") for name in names)


def test_threads_restored_and_no_worker_left_after_a_stopped_fit():
    before = torch.get_num_threads()
    task = sure_fit(2)
    steps = task.fit.steps()
    next(steps)
    steps.close()
    assert torch.get_num_threads() == before
    assert not any(t.name.startswith("napari-dip-probe") for t in threading.enumerate())


def test_adaptive_sure_fit_counts_its_iterations_per_thread_count():
    task = prepare_denoise(noisy_image(), preset="sure", iterations=30, auto_stop=False, threads="adaptive")
    task.run()
    used = task.fit.history.thread_iterations
    assert sum(used.values()) == 30 and set(used) <= {1, 2}
