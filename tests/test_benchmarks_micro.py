"""The photon-noise, fluorescence-preset, sure-clipping and tiling benchmarks run with tiny settings and print their tables (no quality assertions)."""

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


def test_presets_fluorescence_table():
    rows = table_rows(run_script("presets_fluorescence.py", "--size", "32", "--photons", "5"))
    assert rows[0] == ["preset", "data term", "5 photons", "stop", "s / fit"]
    assert [r[:2] for r in rows[2:]] == [["noisy input", "-"], ["fast", "gaussian"], ["fast", "poisson"],
                                         ["drp", "gaussian"], ["drp", "poisson"]]
    assert rows[-1][2] == "refused"  # drp fits the root of the data term, which the photon-noise likelihood refuses
    assert all(float(row[2]) > 0 for row in rows[2:-1])


def test_sure_clipping_table():
    rows = table_rows(run_script("sure_clipping.py"))
    assert rows[0] == ["image", "clipped values (%)", "noise growth", "sure warns", "noisy (dB)", "sure (dB)",
                       "fast (dB)", "sure - fast (dB)"]
    assert [r[0] for r in rows[2:]] == ["astronaut", "chelsea"]
    for row in rows[2:]:
        clipped, sure, fast, difference = float(row[1]), float(row[5]), float(row[6]), float(row[7])
        assert row[3] == ("yes" if clipped > 5 or float(row[2]) > 1.5 else "no")
        assert abs(sure - fast - difference) < 0.011


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
