"""TIFF stacks on the command line: warm-started slices (the default), independent slices, or one 3D fit."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_dip.cli import main

FAST = ["--preset", "fast", "--device", "cpu", "-q"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def zstack(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "zstack.tif"
    tifffile.imwrite(path, rng.integers(500, 4000, (3, 20, 24), dtype=np.uint16), photometric="minisblack")
    return path


@pytest.mark.parametrize("mode, warm, iterations", [("warm", ["--warm-iterations", "4"], "4 iterations"),
                                                   ("slices", [], "8 iterations")])
def test_stack_slices_warm_or_from_scratch(zstack, tmp_path, capsys, mode, warm, iterations):
    out = tmp_path / f"{mode}.tif"
    code, stdout, err = run(capsys, "denoise", zstack, "--stack", mode, "--context", "0", "--iterations", "8", *warm,
                            "-o", out, *FAST[:-1])
    assert code == 0, err
    written = tifffile.imread(out)
    assert written.shape == (3, 20, 24) and written.dtype == np.uint16
    assert iterations in stdout  # the last slice ran the warm (or full) number of iterations


def test_stack_slices_fitted_with_their_neighbours(zstack, tmp_path, capsys, monkeypatch):
    from napari_dip.core.tasks import prepare

    shapes = []
    original = prepare.TASKS["denoise"]
    monkeypatch.setitem(prepare.TASKS, "denoise", lambda image, **kw: shapes.append(image.shape) or original(image, **kw))
    out = tmp_path / "context.tif"
    source = tmp_path / "five.tif"
    tifffile.imwrite(source, np.concatenate([tifffile.imread(zstack)] * 2)[:5], photometric="minisblack")
    code, stdout, err = run(capsys, "denoise", source, "--context", "1", "--iterations", "2", "-o", out, *FAST[:-1])
    assert code == 0, err
    assert shapes == [(3, 20, 24)] * 3  # windows 0-2 (slices 0, 1), 1-3, 2-4 (slices 3, 4)
    written = tifffile.imread(out)
    assert written.shape == (5, 20, 24) and written.dtype == np.uint16


def test_stack_as_one_volume(zstack, tmp_path, capsys):
    out = tmp_path / "3d.tif"
    code, stdout, err = run(capsys, "denoise", zstack, "--stack", "3d", "--spacing", "2,1,1", "--iterations", "2",
                            "-o", out, *FAST[:-1])
    assert code == 0, err
    assert "(1 image(s)" in stdout
    written = tifffile.imread(out)
    assert written.shape == (3, 20, 24) and written.dtype == np.uint16


@pytest.mark.parametrize(
    "argv, message",
    [
        (["denoise", "--stack", "slices", "--warm-iterations", "4"], "use it with --stack warm, not --stack slices"),
        (["denoise", "--spacing", "2,1,1"], "add --stack 3d"),
        (["denoise", "--stack", "3d", "--spacing", "2,x,1"], "--spacing 2,x,1"),
        (["denoise", "--warm-iterations", "0"], "--warm-iterations 0"),
        (["denoise", "--context", "-1"], "--context -1"),
        (["denoise", "--stack", "3d", "--context", "1"], "leave it out with --stack 3d"),
    ],
)
def test_bad_stack_options(zstack, tmp_path, capsys, argv, message):
    code, _, err = run(capsys, argv[0], zstack, *argv[1:], "-o", tmp_path / "x.tif", *FAST)
    assert code == 1 and message in err, err


def test_a_warm_stack_whose_slices_the_default_would_fit_differently_runs_with_one_preset(tmp_path, capsys):
    clean = np.full((2, 32, 32), 0.3, np.float32)
    clean[0, :, 16:], clean[1, :, 16:] = 0.7, 0.97  # alone, slice 0 would get preset "sure", clipped slice 1 "fast"
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.08, clean.shape), 0, 1)
    source, out = tmp_path / "mixed.tif", tmp_path / "out.tif"
    tifffile.imwrite(source, (noisy * 255).round().astype(np.uint8), photometric="minisblack")
    code, stdout, err = run(capsys, "denoise", source, "--iterations", "2", "-o", out, "--device", "cpu")
    assert code == 0, err
    assert tifffile.imread(out).shape == (2, 32, 32)
