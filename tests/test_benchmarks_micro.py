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


def test_sure_patience_table():
    rows = table_rows(run_script("sure_patience.py", "--iterations", "40"))
    assert rows[0] == ["image", "auto picks", "best PSNR along the fit (iteration)", "s / it",
                       "patience 30: stop / PSNR kept", "patience 50: stop / PSNR kept",
                       "patience 100: stop / PSNR kept"]
    assert [r[0] for r in rows[2:]] == ["astronaut", "chelsea"]
    for row in rows[2:]:
        assert row[1] in ("sure", "fast")
        assert all(cell.startswith("40 / ") for cell in row[4:])  # 40 iterations end before the stop's warm-up


def test_sure_patience_replays_the_engine_s_stop(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import sure_patience

    # The held-out error falls to its minimum at iteration 150, then rises; the PSNR peaks at 160.
    scores = [(i, abs(i - 150) + 1.0, 30.0 - abs(i - 160) / 100) for i in range(10, 401, 10)]
    assert sure_patience.replay(scores, 30) == (180, pytest.approx(29.9))
    assert sure_patience.replay(scores, 100) == (250, pytest.approx(29.9))
    assert sure_patience.replay(scores, 1000) == (400, pytest.approx(29.9))  # ran to the end: the minimum's image
    early = [(i, 1.0 / i, 20.0 + i) for i in range(10, 61, 10)]
    assert sure_patience.replay(early, 30) == (60, 80.0)  # ended in the warm-up: its last image
