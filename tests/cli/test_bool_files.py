"""bool images from and to files: a 1-bit PNG and a bool TIFF come back as bool."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from napari_dip.batch.files import read_image, write_image
from napari_dip.cli import main

FAST = ["--preset", "fast", "--iterations", "2", "--device", "cpu", "-q"]


@pytest.fixture
def mask() -> np.ndarray:
    mask = np.zeros((20, 24), bool)
    mask[4:12, 6:18] = True
    return mask


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_bool_files_round_trip_exactly(tmp_path, mask, suffix):
    path = tmp_path / f"mask{suffix}"
    write_image(path, mask, None)
    back = read_image(path)
    assert back.data.dtype == bool
    np.testing.assert_array_equal(back.data, mask)
    if suffix == ".png":
        assert Image.open(path).mode == "1"  # a 1-bit PNG


def test_bool_stack_tiff(tmp_path, mask):
    stack = np.stack([mask, ~mask])
    write_image(tmp_path / "stack.tif", stack, None)
    back = read_image(tmp_path / "stack.tif")
    assert back.slice_ndim == 1 and back.data.dtype == bool
    np.testing.assert_array_equal(back.data, stack)


def test_jpeg_refuses_bool_with_a_fix(tmp_path, mask):
    with pytest.raises(ValueError, match="PNG or TIFF"):
        write_image(tmp_path / "mask.jpg", mask, None)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_cli_restores_a_bool_file_as_bool(tmp_path, mask, suffix, capsys):
    source = tmp_path / f"binary{suffix}"
    if suffix == ".png":
        Image.fromarray(mask).save(source)
    else:
        tifffile.imwrite(source, mask)
    out = tmp_path / f"out{suffix}"
    assert main(["denoise", str(source), "-o", str(out), *FAST]) == 0
    back = read_image(out)
    assert back.data.dtype == bool and back.data.shape == mask.shape
