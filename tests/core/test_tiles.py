"""Large images: memory planned from shapes, overlapping tiles blended without seams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import napari_dip
from napari_dip.core.fitting.tiles import blend_weights, plan_tiles, tile_starts
from napari_dip.core.tasks.prepare import TASKS, prepare_denoise
from napari_dip.core.tasks.settings import replay_keywords

GIB = 2**30


@pytest.mark.parametrize("length, size, overlap", [(100, 40, 8), (64, 32, 16), (33, 32, 4), (20, 32, 4)])
def test_tiles_cover_the_axis_with_their_overlap(length, size, overlap):
    starts = tile_starts(length, size, overlap)
    ends = [min(s + size, length) for s in starts]
    assert starts[0] == 0 and ends[-1] == length
    assert all(end - nxt >= overlap for end, nxt in zip(ends, starts[1:]))


def test_blending_has_no_seams():
    plan = plan_tiles((64, 64), 40, lambda h, w: h * w, None)
    assert plan.tiled and len(plan.boxes) == 4
    total, weight = np.zeros((64, 64)), np.zeros((64, 64))
    for k, box in enumerate(plan.boxes):  # every tile disagrees with its neighbours by a whole unit
        w = blend_weights(box, plan.shape, plan.overlap)
        total[box] += w * k
        weight[box] += w
    blended = total / weight
    steps = max(np.abs(np.diff(blended, axis=0)).max(), np.abs(np.diff(blended, axis=1)).max())
    assert steps <= 3 / plan.overlap  # a hard cut would jump by 1 or more


def test_plan_refuses_or_tiles_from_shapes_alone():
    needed = lambda h, w: 1000 * h * w  # noqa: E731
    whole = plan_tiles((512, 512), "auto", needed, free=10**12)
    assert not whole.tiled and whole.memory == needed(512, 512)
    tiled = plan_tiles((512, 512), "auto", needed, free=100 * 10**6, multiple=32)
    assert tiled.tiled and tiled.size % 32 == 0 and tiled.memory <= 0.8 * 100 * 10**6
    with pytest.raises(ValueError, match="tile='auto'"):
        plan_tiles((512, 512), None, needed, free=100 * 10**6)
    with pytest.raises(ValueError, match="too little even"):
        plan_tiles((512, 512), "auto", needed, free=10**6)
    for bad in ("big", 3, 2.5, True):
        with pytest.raises(ValueError, match="tile="):
            plan_tiles((512, 512), bad, needed, free=None)


def test_a_tiled_fit_restores_the_whole_image(camera_crop):
    image = camera_crop[:48, :48]
    with pytest.warns(UserWarning, match="4 overlapping tiles"):
        task = prepare_denoise(image, preset="fast", iterations=3, tile=32, device="cpu", preview_every=1)
    assert task.settings["tile"] == 32 and task.settings["tile_count"] == 4
    records = list(task.steps())
    assert [r.iteration for r in records] == list(range(1, 13)) and records[-1].total == 12
    assert all(r.image.shape == (1, 48, 48) for r in records if r.image is not None)
    assert task.history.iterations == list(range(1, 13)) and task.history.stop_reason == "completed"
    out = task.result()
    assert out.shape == image.shape and out.dtype == np.uint8
    replay = TASKS["denoise"](image, **replay_keywords(task.settings))
    np.testing.assert_array_equal(replay.run()[0], out)


def test_a_stopped_tiled_fit_keeps_the_tiles_done_and_the_input_elsewhere(camera_crop):
    with pytest.warns(UserWarning):
        task = prepare_denoise(camera_crop, preset="fast", iterations=4, tile=32, device="cpu")
    steps = task.steps()
    for _ in range(6):  # the first tile and half of the second
        next(steps)
    steps.close()
    out = task.result()
    assert not np.array_equal(out[:16, :16], camera_crop[:16, :16])
    np.testing.assert_array_equal(out[48:, 48:], camera_crop[48:, 48:])  # the last tile never started


MEMORY_PROBE = """
import json, resource, sys
import numpy as np
import napari_dip.core.runtime.devices as devices
import napari_dip.core.tasks.prepare as tasks
devices.free_memory = lambda device: 16 * 2**30  # the same device on every machine
image = np.add.outer(np.linspace(0, 3, 8000, dtype=np.float32), np.linspace(0, 2, 8000, dtype=np.float32))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    run = tasks.prepare_denoise(image, preset="paper", device="cpu", tile=sys.argv[1] if sys.argv[1] != "none" else None)
    outcome = run.settings["tile_count"]
except ValueError as exc:
    outcome = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"extra": after - before, "outcome": outcome}))
"""


@pytest.mark.parametrize("tile", ["none", "auto"])
def test_an_8000_pixel_image_is_refused_or_tiled_within_1_gib(tile):
    source = str(Path(napari_dip.__file__).parents[1])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": source}
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, tile], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["extra"] < GIB, f"{result['extra'] / GIB:.2f} GiB"
    if tile == "none":
        assert "tile='auto'" in result["outcome"]
    else:
        assert result["outcome"] > 1


def test_a_long_run_says_how_long_once_its_pace_is_measured(monkeypatch, camera_crop):
    from napari_dip.core.fitting import loop

    monkeypatch.setattr(loop, "LONG_FIT", 0.0)  # every fit counts as long
    with pytest.warns(UserWarning, match=r"This fit will take up to .* \(30 iterations on cpu at"):
        prepare_denoise(camera_crop, preset="fast", iterations=30, auto_stop=False).run()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_denoise(camera_crop, preset="fast", iterations=30, auto_stop=False, tile=32).run()
    notes = [str(w.message) for w in caught if "will take" in str(w.message)]
    assert len(notes) == 1 and "(9 tiles x 30 iterations at" in notes[0]  # the whole run, once


def test_a_tiled_fit_blends_into_one_array_of_the_outputs_size():
    import tracemalloc

    prepare_denoise(np.zeros((64, 64), np.float32), preset="fast", iterations=2, auto_stop=False, tile=32).run()
    image = np.random.default_rng(0).random((768, 768, 3)).astype(np.float32)
    run = prepare_denoise(image, preset="fast", iterations=2, auto_stop=False, tile=256, preview_every=1,
                          channel_axis=-1)
    tracemalloc.start()  # numpy's arrays, while the tiles are fitted, previewed and blended
    for _ in run.fit.steps():
        pass
    run.fit.result()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5 * image.nbytes  # the blend, its weights, a preview: 12x the image with one sum per kind
