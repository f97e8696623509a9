"""``napari-dip denoise --noise poisson`` with and without the camera's gain and read noise."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_dip.cli import main

FAST = ["--preset", "fast", "--iterations", "2", "--device", "cpu", "-q"]


@pytest.fixture
def photon_tif(tmp_path):
    rng = np.random.default_rng(0)
    photons = 5 + 40 * np.outer(np.hanning(24), np.hanning(32))
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, (2 * rng.poisson(photons) + 100).astype(np.uint16))
    return path


@pytest.mark.parametrize("extra", [[], ["--gain", "2", "--read-noise", "1.5", "--offset", "100"]])
def test_poisson_denoise_from_the_command_line(photon_tif, tmp_path, extra):
    out = tmp_path / "out.tif"
    assert main(["denoise", str(photon_tif), "-o", str(out), "--noise", "poisson", *extra, *FAST]) == 0
    result = tifffile.imread(out)
    assert result.dtype == np.uint16 and result.shape == (24, 32)


def test_a_bad_gain_is_an_error_message(photon_tif, tmp_path, capsys):
    code = main(["denoise", str(photon_tif), "-o", str(tmp_path / "o.tif"), "--noise", "poisson", "--gain", "-1",
                 *FAST])
    assert code == 1 and "gain" in capsys.readouterr().err


def test_tile_flag_tiles_and_refuses_bad_values(photon_tif, tmp_path, capsys):
    out = tmp_path / "tiled.tif"
    assert main(["denoise", str(photon_tif), "-o", str(out), "--tile", "16", *FAST]) == 0
    assert "16x16" in capsys.readouterr().err  # the choice is shown as a warning
    assert tifffile.imread(out).shape == (24, 32)
    assert main(["denoise", str(photon_tif), "-o", str(tmp_path / "x.tif"), "--tile", "huge", *FAST]) == 1
    assert "--tile huge" in capsys.readouterr().err


def test_denoise_averaged_with_bm3d_records_the_share_and_replays(tmp_path, capsys):
    pytest.importorskip("bm3d")
    from napari_dip.batch.files import read_settings

    rng = np.random.default_rng(0)
    noisy = np.clip(0.5 + 0.2 * np.outer(np.hanning(32), np.hanning(32)) + rng.normal(0, 0.08, (32, 32)), 0, 1)
    source = tmp_path / "noisy.tif"
    tifffile.imwrite(source, noisy.astype(np.float32))
    out = tmp_path / "out.tif"
    tiny = ["--iterations", "3", "--device", "cpu", "-q"]
    assert main(["denoise", str(source), "-o", str(out), "--classic", "bm3d", *tiny]) == 0
    settings = read_settings(out)
    assert settings["classic"] == "bm3d" and settings["preset"] == "sure" and 0 <= settings["classic_share"] <= 1
    again = tmp_path / "again.tif"
    assert main(["denoise", str(source), "-o", str(again), "--config", str(out), *tiny]) == 0
    assert read_settings(again)["classic"] == "bm3d"
    alone = tmp_path / "alone.tif"
    assert main(["denoise", str(source), "-o", str(alone), "--config", str(out), "--classic", "none", *tiny]) == 0
    assert "classic" not in read_settings(alone)


def test_photon_noise_averaged_with_bm3d_from_the_command_line(photon_tif, tmp_path):
    pytest.importorskip("bm3d")
    from napari_dip.batch.files import read_settings

    out = tmp_path / "out.tif"
    tiny = ["--iterations", "3", "--device", "cpu", "-q"]
    assert main(["denoise", str(photon_tif), "-o", str(out), "--noise", "poisson", "--classic", "bm3d", *tiny]) == 0
    settings = read_settings(out)
    assert settings["noise"] == "poisson" and settings["classic"] == "bm3d" and settings["preset"] == "sure"
    assert settings["anscombe_scale"] > 0 and 0 <= settings["classic_share"] <= 1
    result = tifffile.imread(out)
    assert result.dtype == np.uint16 and result.shape == (24, 32)
    again = tmp_path / "again.tif"
    assert main(["denoise", str(photon_tif), "-o", str(again), "--config", str(out), *tiny]) == 0
    np.testing.assert_array_equal(tifffile.imread(again), result)


def test_float_output_from_the_command_line(photon_tif, tmp_path, capsys):
    out = tmp_path / "out.tif"
    assert main(["denoise", str(photon_tif), "-o", str(out), "--output-dtype", "float32", *FAST]) == 0
    result = tifffile.imread(out)
    assert result.dtype == np.float32 and result.shape == (24, 32)
    png = tmp_path / "out.png"  # refused before any fitting: PNG holds no float pixels
    assert main(["denoise", str(photon_tif), "-o", str(png), "--output-dtype", "float32", *FAST]) == 1
    assert "PNG cannot hold float32 pixels" in capsys.readouterr().err and not png.exists()
