"""Inpainting quality: Deep Image Prior against biharmonic inpainting.

Two cases of the paper, on square crops:

* **text**: ``dip/inpainting/kate.png`` with the text mask
  ``kate_mask.png`` (in that file white = known pixel, black = text to fill),
  DIP ``kind="text"`` (the paper's text-inpainting schedule: 6000 iterations,
  lr 0.01, last output). Crop top-left (160, 160).
* **50 % pixels**: ``dip/restoration/barbara.png`` (grey) with 50 % of the
  pixels dropped uniformly at random (numpy seed 0), DIP ``kind="sparse"``
  (11000 iterations, lr 0.001, last output). Crop top-left (192, 288), the
  striped scarf.

The baseline is ``skimage.restoration.inpaint_biharmonic``. PSNR is over the
whole crop (known pixels included, as in the paper), in float, against the
clean crop. The "masked input" row has the missing pixels set to 0.

Modes
-----
full (default): 128 x 128 crops, the ``fast`` preset with the paper's
iteration counts (6000 and 11000); about 15 minutes on one CPU thread
(``--presets paper,fast`` adds the paper network, 5x slower per iteration).
``--quick``: 64 x 64 crops, 500 iterations per case.
With ``--data builtin`` the images are skimage's chelsea (with a synthetic
mask of text-like strokes) and camera.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

#: case -> (image path, mask path or None for random pixels, kind, paper iterations, top, left)
CASES = {
    "kate text": ("dip/inpainting/kate.png", "dip/inpainting/kate_mask.png", "text", 6000, 160, 160),
    "barbara 50 %": ("dip/restoration/barbara.png", None, "sparse", 11000, 192, 288),
}


def text_strokes(shape: tuple[int, ...]) -> np.ndarray:
    """A synthetic text-like mask (True = missing): short strokes in lines, for --data builtin."""
    missing = np.zeros(shape[:2], bool)
    for row in range(6, shape[0] - 4, 12):
        for col in range(4, shape[1] - 6, 7):
            missing[row : row + 3, col : col + 4] = True
    return missing


def missing_pixels(data: str, mask_path: str | None, image: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """The crop's mask, True = missing."""
    if mask_path is None:
        return np.random.default_rng(0).random(image.shape[:2]) < 0.5
    if data == "builtin":
        return text_strokes(image.shape)
    known = common.load(data, mask_path) > 0.5  # white = known in the DIP repository's masks
    return ~common.crop(known, size, top, left)


def dip(image: np.ndarray, missing: np.ndarray, kind: str, preset: str, iterations: int):
    from napari_dip.core.tasks.prepare import prepare_inpaint

    task = prepare_inpaint(image, missing, kind=kind, preset=preset, iterations=iterations, seed=0, device="cpu")
    with common.Timer() as timer:
        output, _ = task.run()
    return output, timer.seconds


def biharmonic(image: np.ndarray, missing: np.ndarray):
    from skimage.restoration import inpaint_biharmonic

    with common.Timer() as timer:
        output = inpaint_biharmonic(image, missing, channel_axis=-1 if image.ndim == 3 else None)
    return np.clip(output, 0, 1), timer.seconds


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="crop side (full 128, quick 64)")
    p.add_argument("--iterations", type=int, help="DIP iterations for every case (default: the paper's; quick 500)")
    p.add_argument("--presets", default="fast", help="comma-separated DIP presets (default fast)")
    args = p.parse_args(argv)
    common.setup(args)
    size = args.size or (64 if args.quick else 128)
    rows, counts = [], []
    for case, (path, mask_path, kind, paper_iterations, top, left) in CASES.items():
        clean = common.crop(common.load(args.data, path), size, top, left)
        missing = missing_pixels(args.data, mask_path, clean, top, left, size)
        masked = clean * ~(missing[..., None] if clean.ndim == 3 else missing)
        iterations = args.iterations or (500 if args.quick else paper_iterations)
        counts.append(f"{case}: {100 * missing.mean():.1f} % missing, {iterations} iterations")
        results = {"masked input": (masked, 0.0), "biharmonic (skimage)": biharmonic(masked, missing)}
        for preset in args.presets.split(","):
            results[f"DIP {preset}"] = dip(masked, missing, kind, preset, iterations)
        for method, (output, secs) in results.items():
            rows.append([case, method, common.fmt(common.psnr(output, clean)), common.fmt(secs, 2)])
        print(f"done {case}: " + ", ".join(f"{r[1]} {r[2]}" for r in rows[-len(results):]), flush=True)
    caption = (
        f"Inpainting PSNR (dB) over whole {size}x{size} crops against the clean crop ({'; '.join(counts)}; "
        f"DIP presets {args.presets}, seed 0, last output)."
    )
    return common.emit("Inpainting quality", caption, common.table(["case", "method", "PSNR (dB)", "s"], rows), args)


if __name__ == "__main__":
    main()
