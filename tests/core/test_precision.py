"""Automatic precision: bfloat16 where the device computes it natively, float32 elsewhere; recorded as resolved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from napari_dip.core.fitting.loop import FitConfig
from napari_dip.core.runtime import devices
from napari_dip.core.runtime.devices import resolve_precision
from napari_dip.core.tasks.prepare import prepare_denoise


def test_auto_is_the_default():
    assert FitConfig().precision == "auto"


@pytest.mark.parametrize(("native", "expected"), [(True, "bfloat16"), (False, "float32")])
def test_auto_on_cpu_follows_the_cpu_probe(monkeypatch, native, expected):
    monkeypatch.setattr(devices, "cpu_native_bf16", lambda: native)
    assert resolve_precision("auto", "cpu") == expected
    assert resolve_precision("auto", torch.device("cpu")) == expected


@pytest.mark.parametrize(("native", "expected"), [(True, "bfloat16"), (False, "float32")])
def test_auto_on_cuda_asks_for_native_bf16(monkeypatch, native, expected):
    asked = []

    def supported(including_emulation=True):
        asked.append(including_emulation)
        return native or including_emulation  # emulation would always say yes

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", supported)
    assert resolve_precision("auto", "cuda") == expected
    assert asked == [False]


def test_auto_on_mps_is_float32(monkeypatch):
    monkeypatch.setattr(devices, "cpu_native_bf16", lambda: True)  # the CPU does not matter for MPS
    assert resolve_precision("auto", "mps") == "float32"


def test_cpu_probe_falls_back_to_cpuinfo_flags(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    monkeypatch.setattr(devices, "cpu_flags", lambda: {"avx2", "fma", "amx_bf16"})
    assert devices.cpu_native_bf16()
    monkeypatch.setattr(devices, "cpu_flags", lambda: {"avx2", "fma"})
    assert not devices.cpu_native_bf16()


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "float16"])
def test_explicit_precisions_pass_through(monkeypatch, precision):
    monkeypatch.setattr(devices, "cpu_native_bf16", lambda: True)
    assert resolve_precision(precision, "cpu") == precision
    assert resolve_precision(precision, "mps") == precision


@pytest.mark.parametrize("value", ["fp8", "AUTO", None, 16])
def test_bad_precision_is_refused(value):
    with pytest.raises(ValueError, match=r"precision=.*auto, float32, bfloat16, float16"):
        FitConfig(precision=value)
    with pytest.raises(ValueError, match="precision="):
        resolve_precision(value, "cpu")


@pytest.mark.parametrize(("native", "expected"), [(True, "bfloat16"), (False, "float32")])
def test_the_resolved_precision_is_recorded(monkeypatch, native, expected):
    monkeypatch.setattr(devices, "cpu_native_bf16", lambda: native)
    task = prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu", threads=1)
    assert task.settings["precision"] == expected
    assert task.fit.config.precision == expected
    assert prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu", threads=1,
                           precision="float16").settings["precision"] == "float16"


def test_this_cpu_runs_bfloat16_where_its_flags_say_it_computes_it_natively():
    flags = Path("/proc/cpuinfo").read_text().split() if Path("/proc/cpuinfo").exists() else None
    if flags is None:
        pytest.skip("no /proc/cpuinfo to read the CPU's flags from")
    native = "avx512_bf16" in flags or "amx_bf16" in flags
    assert resolve_precision("auto", "cpu") == ("bfloat16" if native else "float32")


def test_auto_keeps_3d_fits_on_a_bf16_cpu_in_float32(monkeypatch):
    # bfloat16 3D convolutions on an AMX CPU turned a fit's loss NaN within 10 iterations (torch 2.11); CUDA was fine.
    monkeypatch.setattr(devices, "cpu_native_bf16", lambda: True)
    assert resolve_precision("auto", "cpu", spatial_dims=3) == "float32"
    assert resolve_precision("auto", "cpu", spatial_dims=2) == "bfloat16"
    assert resolve_precision("bfloat16", "cpu", spatial_dims=3) == "bfloat16"  # asked for: passed through
    volume = np.random.default_rng(0).random((4, 16, 16)).astype(np.float32)
    task = prepare_denoise(volume, preset="fast", iterations=2, device="cpu", spatial_dims=3)
    assert task.settings["precision"] == "float32" and task.fit.config.precision == "float32"
