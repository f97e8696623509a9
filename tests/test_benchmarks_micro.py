"""The photon-noise and tiling benchmarks run with tiny settings and print their tables (no quality assertions)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from test_benchmarks import BENCHMARKS, run_script, table_rows


def test_photon_noise_table():
    rows = table_rows(run_script("photon_noise.py", "--size", "32", "--iterations", "2", "--photons", "5"))
    assert rows[0] == ["method", "5 photons", "s / fit"]
    assert [r[0] for r in rows[2:]] == ["noisy input", "Gaussian (squared error)", "Poisson likelihood",
                                        "Anscombe + exact unbiased inverse", "Anscombe + algebraic inverse"]


@pytest.fixture
def tiling(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import tiling

    return tiling


def test_seam_step_sees_a_jump(tiling):
    error = np.zeros((8, 8))
    error[:, 4:] = 1.0  # a seam between columns 3 and 4
    seam, rest = tiling.seam_steps(error, [4])
    assert seam == pytest.approx(0.5) and rest == 0  # rows cross nothing; columns jump by 1 at the seam


def test_tiling_worker_reports_one_fit(tiling, capsys):
    tiling.worker("blended", 48, 32, 2, 1)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["tiles"] == 4 and result["estimate"] > 0 and np.isfinite(result["psnr"])


def test_averaged_runs_are_traced_as_the_api_averages_them(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import common
    import time_to_quality

    import napari_dip

    clean = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    inputs, clean, _ = time_to_quality.problem("denoise", clean)
    options = {"preset": "drp", "iterations": 10}
    trace = time_to_quality.trace("denoise", inputs, clean, {**options, "runs": 2})
    assert trace.iterations == [20] and trace.stop_iteration == 20  # the steps of both fits
    averaged = napari_dip.denoise(inputs[0], runs=2, channel_axis=-1, seed=0, device="cpu", **options)
    assert trace.returned_psnr == pytest.approx(common.psnr(averaged, clean), abs=1e-4)
    assert trace.psnr[-1] == pytest.approx(trace.returned_psnr, abs=1e-4)  # the last preview is what it returns
