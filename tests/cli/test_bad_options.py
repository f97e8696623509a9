"""Bad options and settings files on the command line: one line naming the option or key, exit code 1, no fit."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from napari_dip.cli import main
from napari_dip.core.fitting import loop as fit_module

FAST = ["--preset", "fast", "--iterations", "3", "--device", "cpu", "-q"]


def _config(tmp_path, settings) -> str:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    return str(path)


CASES = [
    (["sr", "{rgb}", "--factor", "0"], "factor=0"),
    (["sr", "{rgb}", "--factor", "-2"], "factor=-2"),
    (["denoise", "{rgb}", "--iterations", "0"], "iterations=0"),
    (["denoise", "{rgb}", "--iterations", "-5"], "iterations=-5"),
    (["denoise", "{rgb}", "--lr", "inf"], "lr=inf"),
    (["denoise", "{rgb}", "--lr", "nan"], "lr=nan"),
    (["denoise", "{rgb}", "--lr", "0"], "lr=0"),
    (["denoise", "{rgb}", "--seed", "-1"], "seed=-1"),
    (["denoise", "{rgb}", "--seed", str(2**70)], "seed=1180591620717411303424"),
    (["denoise", "{rgb}", "--threads", "0"], "--threads 0"),
    (["denoise", "{rgb}", "--threads", "-2"], "--threads -2"),
    (["denoise", "{rgb}", "--threads", "adaptive", "--workers", "2"], "--threads adaptive.*give a number"),
    (["denoise", "{rgb}", "--config", {"threads": "auto"}], "threads='auto'.*'adaptive'"),
    (["denoise", "{rgb}", "--runs", "-1"], "--runs -1"),
    (["denoise", "{rgb}", "--tv-weight", "-0.5"], r"tv_weight=-0\.5.*0 or more"),
    (["denoise", "{rgb}", "--tv-weight", "nan"], "tv_weight=nan.*finite"),
    (["denoise", "{rgb}", "--holdout", "0.7"], r"holdout=0\.7.*\[0, 0\.5\]"),
    (["denoise", "{rgb}", "--config", {"tv_weight": -1}], "tv_weight=-1"),
    (["denoise", "{rgb}", "--config", {"tv_weight": "0.1"}], "tv_weight='0.1'"),
    (["denoise", "{rgb}", "--save-every", "-3"], "--save-every -3"),
    (["denoise", "{rgb}", "--config", {"iterations": 5, "learning_rate": 0.1}], "unknown key 'learning_rate'"),
    (["denoise", "{rgb}", "--config", {"itrations": 5}], "unknown key 'itrations'"),
    (["denoise", "{rgb}", "--config", {"iterations": "5"}], "iterations='5'.*whole number"),
    (["denoise", "{rgb}", "--config", {"iterations": 2.5}], r"iterations=2\.5"),
    (["denoise", "{rgb}", "--config", {"lr": "fast"}], "lr='fast'"),
    (["denoise", "{rgb}", "--config", {"lr": -1}], "lr=-1"),
    (["denoise", "{rgb}", "--config", {"seed": 1.5}], r"seed=1\.5"),
    (["denoise", "{rgb}", "--config", {"use_ema": "no"}], "use_ema='no'"),
    (["denoise", "{rgb}", "--config", {"precision": "fp8"}], "precision='fp8'"),
    (["denoise", "{rgb}", "--config", {"preset": 3}], "preset=3"),
    (["denoise", "{rgb}", "--config", {"device": 7}], "device=7"),
    (["sr", "{rgb}", "--config", {"factor": 0}], "factor=0"),
    (["sr", "{rgb}", "--config", {"factor": "4"}], "factor='4'"),
    (["inpaint", "{rgb}", "--mask", "{mask}", "--config", {"kind": "blob"}], "kind='blob'"),
    (["denoise", "{rgb}", "--config", {"patience": 0}], "patience=0"),
    (["denoise", "{pages}"], "pages of different sizes"),
    (["denoise", "{rgb}", "--classic", "bm3d"], r"classic='bm3d' averages with preset='sure'.*not preset='fast'"),
    (["denoise", "{rgb}", "--config", {"classic": "nlm"}], r"classic='nlm'.*'bm3d'"),
    (["inpaint", "{rgb}", "--mask", "{mask}", "--config", {"classic": "bm3d"}], r"classic='bm3d'.*'biharmonic'"),
]


@pytest.mark.parametrize(("argv", "message"), CASES)
def test_bad_option_is_refused_before_any_fit(files, tmp_path, capsys, monkeypatch, argv, message):
    def no_work(*args, **kwargs):
        raise AssertionError("a fit started before the bad option was refused")

    monkeypatch.setattr(fit_module.Fit, "steps", no_work)
    pages = tmp_path / "pages.tif"
    tifffile.imwrite(pages, np.zeros((20, 24), np.uint16))
    tifffile.imwrite(pages, np.zeros((30, 16), np.uint16), append=True)
    names = {**{k: str(v) for k, v in files.items()}, "pages": str(pages)}
    argv = [_config(tmp_path, a) if isinstance(a, dict) else a.format(**names) for a in argv]
    code = main([argv[0], *FAST[:-1], "-o", str(tmp_path / "out"), *argv[1:]])
    err = capsys.readouterr().err
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("napari-dip: error: "), err
    assert __import__("re").search(message, lines[0]), err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_settings_file_from_a_layer_is_accepted(files, tmp_path, capsys):
    from napari_dip.core.tasks.prepare import prepare_super_resolution

    settings = prepare_super_resolution(np.zeros((16, 16)), 2, preset="fast", iterations=2, device="cpu").settings
    layer_metadata = {**settings, "source": "cells", "output": "super-resolved x2", "stopped_at": 2,
                      "stop_reason": "completed"}
    config = _config(tmp_path, {"napari_dip": layer_metadata})
    code = main(["sr", str(files["rgb"]), "-o", str(tmp_path / "a.png"), "--config", config, "-q"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "a.png").exists()


def test_factor_from_the_settings_file_is_used(files, tmp_path, capsys):
    config = _config(tmp_path, {"factor": 2, "iterations": 2, "preset": "fast", "device": "cpu"})
    code = main(["sr", str(files["grey16"]), "-o", str(tmp_path / "a.tif"), "--config", config, "-q"])
    assert code == 0, capsys.readouterr().err
    assert tifffile.imread(tmp_path / "a.tif").shape == (40, 56)


def test_pages_of_one_size_are_a_stack(tmp_path, capsys):
    path = tmp_path / "pages.tif"
    for k in range(2):
        tifffile.imwrite(path, np.full((20, 24), 1000 * (k + 1), np.uint16), append=True)
    code = main(["denoise", str(path), "-o", str(tmp_path / "out.tif"), *FAST])
    assert code == 0, capsys.readouterr().err
    assert tifffile.imread(tmp_path / "out.tif").shape == (2, 20, 24)
