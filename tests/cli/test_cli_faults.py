"""Faults users met on the command line: settings that replay, files that stay whole, layouts that come back."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
import skimage.io
import tifffile

from napari_dip.cli import main

FAST = ["--preset", "fast", "--iterations", "2", "--device", "cpu", "--threads", "1", "-q"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def settings_of(**kwargs) -> dict:
    """The settings the engine records for a tiny denoising fit with ``kwargs``."""
    import warnings

    image = np.random.default_rng(0).random(kwargs.pop("shape", (40, 40))).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from napari_dip.core.tasks.prepare import prepare_denoise

        return json.loads(json.dumps(prepare_denoise(image, preset="fast", iterations=2, threads=1, **kwargs).settings))


@pytest.mark.parametrize("recorded", [
    pytest.param(lambda: settings_of(tile=16), id="tiled"),
    pytest.param(lambda: {**settings_of(tile=16), "tile": None}, id="tiled, replayed untiled"),
    pytest.param(lambda: settings_of(shape=(8, 16, 16), spatial_dims=3), id="3d"),
    pytest.param(lambda: {**settings_of(), "stack_mode": "all slices (warm start)", "slice_index": [1],
                          "slices": [{"index": [0], "stopped_at": 2, "stop_reason": "completed"}],
                          "slices_done": 1, "slices_total": 2}, id="stack from the widget"),
    pytest.param(lambda: {**settings_of(), "kept_iteration": 1, "stop_reason": "kept from history"}, id="kept"),
    pytest.param(lambda: {**settings_of(), "mask": "src [mask]", "kind": "text"}, id="inpaint layer"),
    pytest.param(lambda: {**settings_of(), "flash": "flash photo"}, id="flash layer"),
    pytest.param(lambda: {**settings_of(), "warm_start": True}, id="warm-started slice"),
])
def test_settings_the_software_records_replay_with_config(files, tmp_path, capsys, recorded):
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"napari_dip": recorded()}))
    source = files["stack"] if recorded().get("spatial_dims") == 3 else files["grey16"]
    code, _, err = run(capsys, "denoise", source, "--config", config, "-o", tmp_path / "out.tif", *FAST)
    assert code == 0, err


def test_outputs_record_their_settings_and_config_replays_them(files, tmp_path, capsys):
    first = tmp_path / "first.png"
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", first, "--seed", "7", "--tv-weight", "0.01", *FAST)
    assert code == 0, err
    from PIL import Image

    recorded = json.loads(Image.open(first).info["napari_dip"])["napari_dip"]
    assert recorded["seed"] == 7 and recorded["tv_weight"] == 0.01 and recorded["source"] == str(files["rgb"])
    second = tmp_path / "second.png"
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", second, "--config", first, "-q")
    assert code == 0, err
    np.testing.assert_array_equal(skimage.io.imread(second), skimage.io.imread(first))
    tiff = tmp_path / "out.tif"
    assert run(capsys, "denoise", files["grey16"], "-o", tiff, *FAST)[0] == 0
    with tifffile.TiffFile(tiff) as tif:
        assert tif.shaped_metadata[0]["napari_dip"]["preset"] == "fast"


def disk_full_after_a_few_bytes(monkeypatch):
    """Every image writer writes 7 bytes of its file, then the disk is full."""
    from PIL import Image

    def full(target, *args, **kwargs):
        path = target if isinstance(target, (str, os.PathLike)) else getattr(target, "name", None)
        if path is not None:
            Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Image.Image, "save", lambda self, fp, *a, **k: full(fp))
    monkeypatch.setattr(tifffile, "imwrite", full)


@pytest.mark.parametrize(("source", "suffix", "extra"), [
    ("rgb", ".png", []), ("jpg", ".jpg", []), ("grey16", ".tif", []), ("stack", ".tif", []),
    ("bool", ".png", []), ("bool", ".tif", []), ("rgb", ".png", ["--save-every", "1"]),
    ("bool", ".png", ["--save-every", "1"]),
])
def test_a_full_disk_leaves_every_output_whole_or_absent(files, tmp_path, capsys, monkeypatch, source, suffix, extra):
    if source == "bool":
        files["bool"] = tmp_path / "bool.png"
        from PIL import Image

        Image.fromarray(np.random.default_rng(0).random((24, 32)) > 0.5).save(files["bool"])
    out = tmp_path / "out" / f"result{suffix}"
    out.parent.mkdir()
    out.write_bytes(b"the previous result")
    disk_full_after_a_few_bytes(monkeypatch)
    code, _, err = run(capsys, "denoise", files[source], "-o", out, "--overwrite", *FAST, *extra)
    assert code == 1 and "No space left on device" in err and "free some space" in err, err
    assert out.read_bytes() == b"the previous result"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no partial or temporary file


def test_an_output_that_is_its_input_is_refused_and_the_input_kept(files, capsys):
    before = files["rgb"].read_bytes()
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", files["rgb"], "--overwrite", *FAST)
    assert code == 1 and "is also an input" in err, err
    assert files["rgb"].read_bytes() == before


def test_a_planar_rgb_tiff_comes_back_in_its_layout(tmp_path, capsys):
    planar = np.random.default_rng(0).integers(0, 60000, (3, 24, 32), dtype=np.uint16)
    source, out = tmp_path / "planar.tif", tmp_path / "out.tif"
    tifffile.imwrite(source, planar, photometric="rgb", planarconfig="separate")
    assert run(capsys, "denoise", source, "-o", out, *FAST)[0] == 0
    with tifffile.TiffFile(source) as before, tifffile.TiffFile(out) as after:
        assert after.series[0].shape == before.series[0].shape and after.series[0].axes == before.series[0].axes


@pytest.mark.parametrize("slices", [3, 4])
def test_a_stack_of_3_or_4_slices_saved_with_tifffiles_defaults_is_restored_slice_by_slice(tmp_path, capsys,
                                                                                         slices):
    stack = np.random.default_rng(0).integers(0, 4000, (slices, 24, 32), dtype=np.uint16)
    source, out = tmp_path / "stack.tif", tmp_path / "out.tif"
    with pytest.warns(DeprecationWarning) if slices == 3 else _nothing():
        tifffile.imwrite(source, stack)  # tifffile's defaults: 3 slices are stored as planar RGB
    code, stdout, err = run(capsys, "denoise", source, "-o", out, *FAST[:-1])
    assert code == 0, err
    assert f"({slices} image(s)" in stdout
    assert tifffile.imread(out).shape == stack.shape


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_an_input_that_is_not_a_regular_file_is_named_as_such(tmp_path, capsys):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "denoise", fifo, "-o", tmp_path / "out.png", *FAST)
    assert code == 1 and "is not a regular file" in err and "no such file" not in err, err


def test_a_scheduler_address_that_is_no_address_is_refused_naming_the_flag(files, tmp_path, capsys):
    pytest.importorskip("distributed")
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "o.png", "--scheduler", "notaurl", *FAST)
    assert code == 1 and "--scheduler notaurl" in err and "tcp://HOST:PORT" in err, err


def test_a_tiled_fit_reports_its_iterations_per_tile(files, tmp_path, capsys):
    big = tmp_path / "big.tif"
    tifffile.imwrite(big, np.random.default_rng(0).integers(0, 4000, (48, 48), dtype=np.uint16))
    code, stdout, err = run(capsys, "denoise", big, "-o", tmp_path / "out.tif", "--tile", "16", *FAST[:-1],
                            "--no-auto-stop")
    assert code == 0, err
    assert "2 iterations per tile, 25 tiles" in stdout, stdout  # 16-pixel tiles overlapping by 16: a step of 8


def test_quiet_runs_silence_the_clusters_own_logs(monkeypatch):
    pytest.importorskip("distributed")
    import logging

    import distributed

    from napari_dip.batch import cluster

    seen = {}
    monkeypatch.setattr(distributed, "LocalCluster", lambda **kwargs: seen.update(kwargs) or "cluster")
    assert cluster.local_cluster(2, "cpu", quiet=True) == "cluster"
    assert seen["silence_logs"] == logging.CRITICAL


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/tmp/x"),
                                   FileNotFoundError(errno.ENOENT, "No usable temporary directory found in ['/tmp']")])
def test_a_failing_file_operation_is_told_in_the_users_words(files, tmp_path, capsys, monkeypatch, error):
    import napari_dip.batch.serial

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(napari_dip.batch.serial, "restore_pieces", fail)
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "o.png", *FAST)
    assert code == 1 and "[Errno" not in err and "system refused a file operation" in err, err
    assert "TMPDIR" in err and len(err.strip().splitlines()) == 1
