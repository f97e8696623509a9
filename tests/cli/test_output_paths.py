"""Output locations: checked before any fitting, written atomically, skipped on a rerun, snapshots per run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.io
import tifffile

import napari_dip.batch.serial
from napari_dip.batch.files import write_image
from napari_dip.cli import main
from napari_dip.core.validation import InputError

FAST = ["--preset", "fast", "--iterations", "3", "--device", "cpu", "-q"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("napari-dip: error: "), err
    assert "Errno" not in err and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def no_fitting(monkeypatch):
    """Fail the test if any fit starts."""
    calls = []
    monkeypatch.setattr(napari_dip.batch.serial, "restore_pieces", lambda *a, **k: calls.append(a) or 1 / 0)
    return calls


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (a read-only folder; /sys for root)."""
    if os.name == "posix" and os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if sys.platform.startswith("linux") and Path("/sys").is_dir() and not os.access("/sys", os.W_OK):
        return Path("/sys")
    try:
        (Path("/sys") / ".napari_dip_probe").touch()
    except OSError:
        return Path("/sys")
    pytest.skip("no folder here that this user cannot write to")


def test_output_under_a_file_is_refused_with_a_message(files, tmp_path, capsys, no_fitting):
    (tmp_path / "afile.txt").write_text("x")
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", f"{tmp_path}/afile.txt/sub/", *FAST)
    assert code == 1 and not no_fitting
    line = one_error_line(err)
    assert "afile.txt is a file, not a folder" in line and "-o" in line


def test_unknown_output_suffix_is_refused_and_no_folder_made(files, tmp_path, capsys, no_fitting):
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "out.bmp", *FAST)
    assert code == 1 and not no_fitting
    line = one_error_line(err)
    assert "unsupported output file type '.bmp'" in line and ".tif" in line and "out.bmp/" in line
    assert not (tmp_path / "out.bmp").exists()


def test_a_folder_with_a_dot_is_taken_when_it_ends_in_a_slash_or_exists(files, tmp_path, capsys):
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", f"{tmp_path}/v1.2/", *FAST)
    assert code == 0, err
    assert (tmp_path / "v1.2" / "rgb_denoised.png").is_file()
    code, _, err = run(capsys, "denoise", files["jpg"], "-o", tmp_path / "v1.2", *FAST)
    assert code == 0, err
    assert (tmp_path / "v1.2" / "photo_denoised.png").is_file()


def test_unwritable_output_folder_is_found_before_fitting(files, tmp_path, capsys, no_fitting):
    folder = unwritable_folder(tmp_path)
    code, _, err = run(capsys, "denoise", files["rgb"], files["jpg"], "-o", folder, *FAST)
    assert code == 1 and not no_fitting
    line = one_error_line(err)
    assert f"cannot write to {folder}" in line and "choose another -o" in line


def test_every_output_location_is_checked_before_fitting(files, tmp_path, capsys, no_fitting):
    (tmp_path / "afile.txt").write_text("x")
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "afile.txt" / "deeper" / "x.png", *FAST)
    assert code == 1 and not no_fitting
    assert "afile.txt is a file, not a folder" in one_error_line(err)


def test_snapshots_of_several_runs_are_named_per_run(files, tmp_path, capsys):
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path, "--runs", "2", "--save-every", "2",
                       "--preset", "fast", "--iterations", "4", "-q")
    assert code == 0, err
    names = sorted(p.name for p in tmp_path.glob("rgb_denoised_*it*.png"))
    assert names == ["rgb_denoised_run1_it00002.png", "rgb_denoised_run1_it00004.png",
                     "rgb_denoised_run2_it00002.png", "rgb_denoised_run2_it00004.png"]
    first, second = (skimage.io.imread(tmp_path / f"rgb_denoised_run{k}_it00004.png") for k in (1, 2))
    assert not np.array_equal(first, second)  # different seeds: the second run did not overwrite the first


def test_rerun_skips_finished_outputs_and_says_so(files, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", out, *FAST)
    assert code == 0, err
    done = out / "rgb_denoised.png"
    before = done.stat().st_mtime_ns
    code, stdout, err = run(capsys, "denoise", files["rgb"], files["grey16"], "-o", out, "--preset", "fast",
                            "--iterations", "3", "--device", "cpu")
    assert code == 0, err
    assert done.stat().st_mtime_ns == before
    assert f"skipped {files['rgb']}: {done} exists (pass --overwrite to replace it)" in stdout
    assert "wrote" in stdout and (out / "grey16_denoised.tif").is_file()
    code, stdout, err = run(capsys, "denoise", files["rgb"], "-o", out, "--overwrite", "--preset", "fast",
                            "--iterations", "3", "--device", "cpu")
    assert code == 0 and "wrote" in stdout and done.stat().st_mtime_ns != before


def test_write_is_atomic_and_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "stack.tif"
    old = np.arange(12, dtype=np.uint16).reshape(3, 4)
    write_image(target, old, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.tif"]

    def broken_writer(path, data, **_):
        Path(path).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tifffile, "imwrite", broken_writer)
    with pytest.raises(InputError, match="cannot write .*stack.tif.*No space left on device"):
        write_image(target, np.zeros((3, 4), np.uint16), None)
    monkeypatch.undo()
    assert np.array_equal(tifffile.imread(target), old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.tif"]  # no temporary file left
