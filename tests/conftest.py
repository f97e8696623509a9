"""Shared fixtures: the devices to test on and small test images."""

from __future__ import annotations

import numpy as np
import pytest


def _devices() -> list[str]:
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


@pytest.fixture(autouse=True)
def fixed_threads(monkeypatch):
    """One CPU thread per fit unless a test says otherwise: a fixed count repeats a seed's result bit for bit
    (a fit with no count given adapts its count to the machine's load)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(params=_devices())
def device(request) -> str:
    """Every device this machine has (CPU always)."""
    return request.param


@pytest.fixture
def camera_crop() -> np.ndarray:
    """A 64x64 uint8 crop of skimage's camera image with edges and flat areas."""
    from skimage import data

    return data.camera()[120:184, 200:264]


@pytest.fixture
def astronaut_crop() -> np.ndarray:
    """A 48x48 RGB uint8 crop of skimage's astronaut image."""
    from skimage import data

    return data.astronaut()[100:148, 180:228]


def _tiny_image(shape=(32, 32), seed=0) -> np.ndarray:
    """A smooth grey image with noise, as uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    clean = 128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0)
    extra = shape[2:]
    if extra:
        clean = np.stack([clean * (0.6 + 0.2 * c) for c in range(extra[0])], axis=-1)
    return np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def tiny_image():
    """``tiny_image(shape=(32, 32), seed=0)``: a small noisy uint8 image (channels last if 3D)."""
    return _tiny_image
