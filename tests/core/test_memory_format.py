"""Memory layout: channels-last where oneDNN convolves faster (2D fits on AVX-512 CPUs), contiguous elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_dip.core.fitting.loop import FitConfig
from napari_dip.core.runtime import devices
from napari_dip.core.runtime.devices import resolve_memory_format
from napari_dip.core.tasks.prepare import prepare_denoise


@pytest.mark.parametrize(("avx512", "expected"), [(True, "channels_last"), (False, "contiguous")])
def test_auto_on_cpu_follows_avx512(monkeypatch, avx512, expected):
    monkeypatch.setattr(devices, "cpu_avx512", lambda: avx512)
    assert resolve_memory_format("auto", "cpu") == expected
    assert resolve_memory_format("auto", torch.device("cpu"), 2) == expected


@pytest.mark.parametrize("device", ["cuda", "mps", "cpu"])
def test_auto_is_contiguous_for_volumes_and_off_the_cpu(monkeypatch, device):
    monkeypatch.setattr(devices, "cpu_avx512", lambda: True)
    assert resolve_memory_format("auto", device, 3) == "contiguous"
    if device != "cpu":
        assert resolve_memory_format("auto", device, 2) == "contiguous"


@pytest.mark.parametrize("value", ["channels-last", "nhwc", None, 4])
def test_bad_memory_format_is_refused(value):
    with pytest.raises(ValueError, match=r"memory_format=.*auto, channels_last, contiguous"):
        FitConfig(memory_format=value)
    with pytest.raises(ValueError, match="memory_format="):
        resolve_memory_format(value, "cpu")


@pytest.mark.parametrize(("avx512", "expected"), [(True, "channels_last"), (False, "contiguous")])
def test_the_resolved_layout_is_recorded_and_used(monkeypatch, avx512, expected):
    monkeypatch.setattr(devices, "cpu_avx512", lambda: avx512)
    task = prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu", threads=1)
    assert task.settings["memory_format"] == expected
    assert task.fit.config.memory_format == expected
    weights = [m.weight for m in task.fit.network.modules() if isinstance(m, torch.nn.Conv2d)]
    layout = torch.channels_last if expected == "channels_last" else torch.contiguous_format
    assert weights and all(w.is_contiguous(memory_format=layout) for w in weights)


def test_layouts_repeat_and_agree():
    image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)

    def fit(layout):
        return prepare_denoise(image, preset="fast", iterations=15, device="cpu", threads=1, precision="float32",
                               memory_format=layout).run()[0]

    first, again, plain = fit("channels_last"), fit("channels_last"), fit("contiguous")
    np.testing.assert_array_equal(first, again)  # the same layout repeats bit for bit
    assert np.abs(first - plain).max() < 0.05  # another layout only rounds differently
