"""The benchmark scripts run (on skimage.data stand-ins, tiny settings) and print their tables.

No timing or quality assertions: only that each script finishes and its table has the expected shape.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_script(name: str, *argv: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(BENCHMARKS / name), "--quick", *argv], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def table_rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]


def test_denoise_quality(tmp_path):
    out = tmp_path / "denoise.md"
    text = run_script("denoise_quality.py", "--data", "builtin", "--size", "32", "--iterations", "10",
                      "--presets", "fast", "--auto-stop", "--out", str(out))
    rows = table_rows(text)
    assert rows[0] == ["method", "F16", "mean PSNR (dB)", "s / image"]
    methods = [r[0] for r in rows[2:]]
    assert methods[:4] == ["noisy input", "DIP fast, last output", "DIP fast, EMA", "DIP fast, best EMA (oracle)"]
    assert methods[4] == "DIP fast, auto-stop"
    assert "non-local means (skimage)" in methods and "total variation (skimage)" in methods
    assert all(len(r) == 4 for r in rows)
    assert out.read_text().startswith("## Denoising quality") and "Machine:" in out.read_text()


def test_sr_quality_falls_back_to_builtin_images(tmp_path):
    text = run_script("sr_quality.py", "--data", str(tmp_path / "missing"), "--size", "32", "--iterations", "3",
                      "--images", "butterfly,bird", "--options", ";back_projections=0")
    rows = table_rows(text)
    assert rows[0] == ["method", "butterfly", "bird", "mean PSNR (dB)", "mean - bicubic (dB)", "iterations",
                       "s / iteration", "s / image"]
    assert [r[0] for r in rows[2:]] == ["bicubic (Pillow)", "bicubic + 1 back-projection",
                                        "DIP fast (1 back-projection)", "DIP fast, same fit without back-projection",
                                        "DIP fast, back_projections=0"]
    assert [r[5] for r in rows[2:]] == ["-", "-", "3 / 3", "3 / 3", "3 / 3"]
    assert rows[2][4] == "0.00"
    assert "skimage.data stand-ins" in text


def test_inpaint_regions():
    rows = table_rows(run_script("inpaint_regions.py", "--data", "builtin", "--size", "128", "--checkpoints", "2,4"))
    assert rows[0] == ["image", "method", "iterations (per box)", "seconds", "PSNR painted pixels (dB)"]
    assert [(r[1], r[2]) for r in rows[2:]] == [("biharmonic", "-"), ("whole image (projected)", "6000"),
                                                ("around the mask", "2"), ("around the mask", "4")]
    assert 0 < float(rows[4][3]) <= float(rows[5][3])  # seconds add up over the checkpoints


def test_inpaint_regions_defaults():
    rows = table_rows(run_script("inpaint_regions.py", "--data", "builtin", "--size", "96", "--defaults",
                                 "--iterations", "3"))
    assert rows[0][:4] == ["image", "method", "iterations per box", "DIP share"]
    methods = [r[1] for r in rows[2:]]
    assert methods == ["biharmonic", "100 whole-image fast iterations (time only)", "default",
                       "default, classic=None"]
    assert 0 <= float(rows[4][3]) <= 1 and rows[5][3] == "-"  # only the default is averaged


def test_inpaint_quality():
    rows = table_rows(run_script("inpaint_quality.py", "--data", "builtin", "--size", "32", "--iterations", "3"))
    assert rows[0] == ["case", "method", "PSNR (dB)", "s"]
    assert [(r[0], r[1]) for r in rows[2:]] == [
        (case, method) for case in ("kate text", "barbara 50 %")
        for method in ("masked input", "biharmonic (skimage)", "DIP fast")
    ]


def test_speed():
    text = run_script("speed.py", "--data", "builtin", "--sizes", "64", "--presets", "fast", "--iterations", "2",
                      "--max-iterations", "20", "--crop", "32", "--target", "5", "--batch-images", "2",
                      "--batch-size", "16", "--batch-iterations", "3", "--quality-iterations", "3",
                      "--rounds", "1")
    tables = [t for t in text.split("\n\n") if t.startswith("|")]
    assert len(tables) == 7
    speed, flops, reach, quality, load, layout, batch = (table_rows(t) for t in tables)
    assert [r[0] for r in batch[2:]] == ["serial", "--workers 2", "speed-up"] and batch[0][-1] == "images / minute"
    assert speed[0][:3] == ["preset", "size", "timed its"] and "reference loop (s/it)" in speed[0]
    assert speed[2][:3] == ["fast", "64x64", "2"]
    assert [r[:2] for r in reach[2:]] == [["fast", "float32"], ["fast", "bfloat16"]]
    assert flops[0][:3] == ["preset", "size", "GFLOP / iteration"] and flops[0][-1] == "fraction of peak"
    assert flops[2][:2] == ["fast", "64x64"] and float(flops[2][2]) > 0 and flops[2][-1].endswith("%")
    assert "FLOP/cycle" in text
    assert [r[:4] for r in quality[2:]] == [["fast", "float32", "32x32", "3"], ["fast", "bfloat16", "32x32", "3"]]
    assert quality[0][4] == "PSNR of the output (dB)" and "bfloat16" in text.split("(4)")[1]
    assert load[0][:3] == ["threads", "idle (s/it)", "next to 1 busy process (s/it)"]
    assert [r[0].split(" (")[0] for r in load[2:]] == ["torch default", "all cores but one", "engine default"]
    assert layout[0][-1] == "contiguous / channels-last" and {r[0] for r in layout[2:]} == {"fast", "sure"}
    assert all(float(r[-1]) > 0 for r in layout[2:]) and "memory_format='auto' here: " in text


def test_thread_policy():
    rows = table_rows(run_script("thread_policy.py", "--data", "builtin", "--load"))
    assert rows[0][:3] == ["image", "machine", "threads"] and rows[0][-1] == "1 thread / default s / iteration"
    assert [r[1:3] for r in rows[2:]] == [["idle", "1 thread"], ["idle", "default"], ["loaded", "1 thread"],
                                          ["loaded", "default"]] * 2
    for row in rows[2:6]:  # the quick fits' 60 iterations, each counted under the threads it ran with
        assert row[4] == "60" and sum(int(part.split(": ")[1]) for part in row[7].split(", ")) == 60
    assert rows[2][7] == rows[3][7] == "1: 60"  # the default follows OMP_NUM_THREADS=1, which the test sets
    assert float(rows[3][8]) > 0 and float(rows[3][9]) > 0


def test_denoise_baselines_without_pywavelets(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setitem(sys.modules, "pywt", None)  # import pywt now raises ImportError
    import denoise_quality

    noisy = np.random.default_rng(0).random((24, 24, 3)).astype(np.float32)
    results = denoise_quality.classical(noisy)
    assert "non-local means (skimage)" in results and not any(k.startswith("wavelet") for k in results)
    assert denoise_quality.immerkaer_sigma(np.zeros((8, 8))) == 0


def test_common_helpers(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import common

    white = np.ones((2, 2, 3))
    assert common.y_channel(white) == pytest.approx(235 / 255)
    assert common.psnr(white, white) == float("inf")
    assert common.psnr(np.zeros(4), np.full(4, 0.1)) == pytest.approx(20.0)
    assert common.table(["a", "b"], [[1, 2]]) == "| a | b |\n|---|---|\n| 1 | 2 |"
    assert common.crop(np.zeros((10, 20)), 8).shape == (8, 8)


def test_time_to_quality(tmp_path):
    cache = tmp_path / "references.json"
    argv = ("--data", "builtin", "--size", "32", "--iterations", "10", "--tasks", "denoise,inpaint",
            "--cache", str(cache))
    text = run_script("time_to_quality.py", *argv, "--default-call")
    tables = [table_rows(t) for t in text.split("\n\n") if t.startswith("|")]
    assert len(tables) == 3
    default_call = tables.pop()
    assert default_call[0][3] == "napari_dip.denoise(noisy) wall time (s)" and default_call[-1][0] == "median"
    assert {row[2] for row in default_call[2:-1]} <= {"sure", "fast"}
    stops = ["fast + hold-out stop", "fast + hold-out stop (2 % of the pixels)", "fast + auto-stop + noise-level stop",
             "fast + auto-stop + noise-level stop + code noise 1/60"]
    presets = ["preset='drp': 2 networks averaged (300 iterations)", "drp + TV 0.1 + hold-out stop",
               "preset='sure': the noisy image as input; SURE + blind spots"]
    for rows, denoising in zip(tables, (True, False)):  # denoise, then inpaint (no denoising-only candidates)
        assert rows[0][:5] == ["method", "reached best - 0.2 dB", "iterations to it", "s/it", "time to it (s)"]
        default = ["default: preset='auto' (sure; fast where sure's checks fail)"]
        assert [r[0] for r in rows[2:]] == ["paper (reference)", *default, "fast + auto-stop",
                                            *(stops if denoising else []), "fast run on (no auto-stop)",
                                            "fast + auto-stop + TV 0.01", *(presets if denoising else [])]
        assert float(rows[2][5]) == 1.0  # the reference against itself
    cached = cache.read_text()
    assert "denoise:" in cached and "inpaint:" in cached
    again = run_script("time_to_quality.py", *argv)  # the second run reuses the cached references and outcomes
    assert cache.read_text() == cached
    assert [table_rows(t) for t in again.split("\n\n") if t.startswith("|")] == tables
    repaced = run_script("time_to_quality.py", *argv, "--repace")  # new seconds per iteration, same iterations

    def outcomes(text: str) -> dict:
        return {key: value for key, value in json.loads(text).items() if not key.startswith("pace:")}

    assert outcomes(cache.read_text()) == outcomes(cached)
    for old, new in zip(tables, [table_rows(t) for t in repaced.split("\n\n") if t.startswith("|")]):
        assert [row[:3] for row in old] == [row[:3] for row in new]


def test_ema_vs_last():
    text = run_script("ema_vs_last.py", "--data", "builtin", "--iterations", "20", "--tasks", "denoise,inpaint")
    rows = table_rows(text)
    assert rows[0][0] == "task" and [r[0] for r in rows[2:]] == ["denoise", "inpaint"]
    for row in rows[2:]:
        assert row[6] in ("EMA", "last") and row[7] in ("EMA", "last")
        assert abs(float(row[2]) - float(row[1]) - float(row[5])) < 0.011  # the difference column is EMA - last


MODULES = ("common.py", "problems.py")  # shared by the scripts, not scripts themselves


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name not in MODULES))
def test_help(script):
    """--help prints every script's options (argparse formats help texts with %, which a stray % breaks)."""
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("usage:") and "--help" in result.stdout


def test_classic_quality():
    pytest.importorskip("bm3d")
    text = run_script("classic_quality.py", "--data", "builtin", "--size", "32", "--iterations", "4",
                      "--images", "F16", "--photons", "10", "--frames", "2", "--stacks", "3,1,10")
    rows = table_rows(text)
    headers = [r for r in rows if r[0] == "method"]
    assert [h[1] for h in headers] == ["F16", "10 photons", "48 px, 10 photons", "frame 0", "3 slices, 10 photons",
                                       "F16"]
    methods = [r[0] for r in rows]
    assert "DIP sure + BM3D (classic='bm3d')" in methods and "GAT + BM3D, true gain / read noise" in methods
    assert "DIP noise='poisson', classic='bm3d', output_dtype='float32'" in methods
    assert "noise='poisson', classic='bm3d', warm: gain over the noisy frame" in methods
    assert "DIP default, context=0" in methods and "float32 (context 3) - GAT + BM3D (dB)" in methods
    assert "outputs' variance (holdout=0)" in methods and "held-out pixels (holdout=0.05)" in methods
    assert "biharmonic" in methods and all(len(r) == len(h) for h in headers for r in rows if len(r) == len(h))


def test_task_costs():
    rows = table_rows(run_script("task_costs.py", "--sizes", "32", "--tasks", "denoise,scratches,hole", "--timed", "1"))
    assert rows[0] == ["task", "size (output)", "preset", "pieces", "s / iteration", "most iterations",
                       "their time (min)"]
    assert [r[0] for r in rows[2:]] == ["denoise", "scratches", "hole"]


def test_stop_quality():
    rows = table_rows(run_script("stop_quality.py", "--data", "builtin", "--size", "32", "--tasks",
                                 "sparse", "--options", "auto_stop=False,iterations=3"))
    assert rows[0] == ["task", "image", "method", "PSNR (dB)", "iterations", "seconds"]
    assert [r[4] for r in rows[2:]] == ["-", "200", "3"]
    assert rows[2][2] == "biharmonic" and rows[3][2].startswith("default (DIP share ")  # averaged with biharmonic
    assert rows[4][2] == "default, auto_stop=False, iterations=3"  # holds nothing out: not averaged


def test_stop_quality_of_large_holes():
    rows = table_rows(run_script("stop_quality.py", "--data", "builtin", "--size", "32", "--tasks", "hole",
                                 "--images", "kate", "--options", "auto_stop=False,holdout=0.0,iterations=3"))
    assert [r[:3] for r in rows[2:3]] == [["hole", "kate", "biharmonic"]]
    assert rows[3][2].startswith("default (DIP share ")  # stopped on held-out pixels, averaged with biharmonic
    assert rows[4][2:5:2] == ["default, auto_stop=False, holdout=0.0, iterations=3", "3"]
