"""Fixtures for the command-line tests: tiny image files and a single torch thread."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import skimage.io
import tifffile
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: two threads on a busy 2-core machine can be 100x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def files(tmp_path):
    """A folder of small test images; returns a dict name -> path."""
    rng = np.random.default_rng(0)
    rgb = skimage.data.astronaut()[100:124, 180:212]  # 24 x 32, uint8
    paths = {
        "rgb": tmp_path / "rgb.png",
        "jpg": tmp_path / "photo.jpg",
        "grey16": tmp_path / "grey16.tif",
        "stack": tmp_path / "stack.tif",
        "float": tmp_path / "float.tif",
        "rgb16": tmp_path / "rgb16.tif",
        "mask": tmp_path / "mask.png",
        "flash": tmp_path / "flash.png",
    }
    skimage.io.imsave(paths["rgb"], rgb, check_contrast=False)
    skimage.io.imsave(paths["jpg"], rgb, check_contrast=False)
    tifffile.imwrite(paths["grey16"], (skimage.data.camera()[:20, :28].astype(np.uint16) * 257))
    tifffile.imwrite(paths["stack"], rng.integers(0, 4000, (2, 20, 24), dtype=np.uint16), photometric="minisblack")
    tifffile.imwrite(paths["float"], rng.random((20, 24), dtype=np.float32) * 5)
    tifffile.imwrite(paths["rgb16"], (rgb.astype(np.uint16) * 257), photometric="rgb")
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[8:11, :] = 255
    skimage.io.imsave(paths["mask"], mask, check_contrast=False)
    skimage.io.imsave(paths["flash"], np.clip(rgb.astype(int) + 40, 0, 255).astype(np.uint8), check_contrast=False)
    return paths
