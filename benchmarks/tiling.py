"""Large images: one fit against overlapping tiles, with peak memory and the error at the seams.

A synthetic image (smooth blobs and stripes in [0, 1], Gaussian noise of std
0.1, numpy seed 0) is denoised (fast preset, seed 0) three ways, each in its
own process so its peak memory can be read:

* whole: one fit of the whole image (``tile=None``);
* tiles, blended: ``tile=SIZE`` - overlapping tiles whose weights ramp across
  the overlap (what the engine does);
* tiles, averaged: the same tiles with flat weights (overlaps averaged), to
  show what the ramps remove.

Columns: PSNR against the clean image; the seam step, the mean jump of the
error (restored - clean) across the tiles' inner edges, next to the typical
step between neighbouring pixels elsewhere (both x 1000; equal values mean no
visible seam); the peak resident memory the process grew by during the fit
and the engine's estimate for one fit; seconds.

full: 128 x 128, tiles of 64, 300 iterations. ``--quick``: 48 x 48, tiles
of 32, 5 iterations.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

MODES = {"whole": "whole", "blended": "tiles, blended", "averaged": "tiles, averaged"}


def synthetic(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(clean, noisy) float32 images: blobs and stripes in [0, 1], noise std 0.1."""
    y, x = np.mgrid[:size, :size] / size
    clean = 0.5 + 0.25 * np.sin(12 * x + 4 * y) * np.cos(9 * y)
    for cy, cx, r in ((0.3, 0.3, 0.08), (0.7, 0.55, 0.12), (0.45, 0.8, 0.05)):
        clean += 0.25 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r**2))
    clean = np.clip(clean, 0, 1)
    noisy = clean + np.random.default_rng(seed).normal(0, 0.1, clean.shape)
    return clean.astype(np.float32), noisy.astype(np.float32)


def seam_steps(error: np.ndarray, edges: list[int]) -> tuple[float, float]:
    """Mean |jump| of ``error`` across the given inner edges (rows and columns), and elsewhere."""
    rows, cols = np.abs(np.diff(error, axis=0)), np.abs(np.diff(error, axis=1))
    at = [e - 1 for e in edges if 0 < e < error.shape[0]]
    seam = np.concatenate([rows[at].ravel(), cols[:, at].ravel()])
    rest_rows, rest_cols = np.delete(rows, at, axis=0), np.delete(cols, at, axis=1)
    return float(seam.mean()), float(np.concatenate([rest_rows.ravel(), rest_cols.ravel()]).mean())


def worker(mode: str, size: int, tile: int, iterations: int, threads: int) -> None:
    """One fit in this process; print its measurements as JSON."""
    import resource
    import warnings

    import torch

    import napari_dip.core.fitting.tiles as tiles
    from napari_dip.core.tasks.prepare import prepare_denoise

    torch.set_num_threads(threads)
    clean, noisy = synthetic(size)
    if mode == "averaged":
        tiles.blend_weights = lambda box, shape, overlap, factor=1: np.ones(
            [(s.stop - s.start) * factor for s in box], np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with common.Timer() as timer, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        task = prepare_denoise(noisy, preset="fast", iterations=iterations, seed=0, device="cpu",
                               tile=None if mode == "whole" else tile)
        restored = task.run()[0]
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    edges = sorted({s for box in tiles.plan_tiles((size, size), tile, lambda h, w: 0, None).boxes
                    for part in box for s in (part.start, part.stop)})
    seam, rest = seam_steps(restored - clean, edges)
    print(json.dumps({"psnr": common.psnr(restored, clean), "seam": seam, "rest": rest, "grown": grown,
                      "estimate": task.settings["memory_estimate_bytes"], "seconds": timer.seconds,
                      "tiles": task.settings.get("tile_count", 1)}))


def main() -> None:
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="image side (default 128; 48 with --quick)")
    p.add_argument("--tile", type=int, help="tile side (default 64; 32 with --quick)")
    p.add_argument("--iterations", type=int, help="iterations per fit (default 300; 5 with --quick)")
    p.add_argument("--worker", choices=tuple(MODES), help=argparse.SUPPRESS)
    args = p.parse_args()
    size = args.size or (48 if args.quick else 128)
    tile = args.tile or (32 if args.quick else 64)
    iterations = args.iterations or (5 if args.quick else 300)
    if args.worker:
        worker(args.worker, size, tile, iterations, args.threads)
        return
    from napari_dip.core.fitting.tiles import default_overlap

    args.data = "code (no files read)"
    rows = []
    for mode, label in MODES.items():
        command = [sys.executable, __file__, "--worker", mode, "--size", str(size), "--tile", str(tile),
                   "--iterations", str(iterations), "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        mib = 2**20
        rows.append([label, r["tiles"], common.fmt(r["psnr"]), common.fmt(1000 * r["seam"]),
                     common.fmt(1000 * r["rest"]), f"{r['grown'] / mib:.0f}", f"{r['estimate'] / mib:.0f}",
                     common.fmt(r["seconds"], 1)])
    body = common.table(["fit", "tiles", "PSNR (dB)", "seam step", "step elsewhere", "peak memory growth (MiB)",
                         "estimate per fit (MiB)", "s"], rows)
    caption = (f"Synthetic {size}x{size} image, noise std 0.1, tiles of {tile} (overlap "
               f"{min(default_overlap(tile), tile // 2)}), fast preset, {iterations} iterations, seed 0.")
    common.emit("Tiled fitting", caption, body, args)


if __name__ == "__main__":
    main()
