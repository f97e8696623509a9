"""Super-resolution quality: Deep Image Prior x4 against bicubic up-sampling on Set5.

Each high-resolution (HR) ground truth is centre-cropped to a square of
``--size`` pixels (a multiple of the factor; ``--size 0`` keeps the whole image,
trimmed to a multiple of the factor) and down-sampled by the factor with
Pillow's Lanczos filter (``Image.LANCZOS``, what the DIP reference code uses,
formerly ``Image.ANTIALIAS``) to an 8-bit low-resolution (LR) image. Bicubic is
Pillow's ``Image.BICUBIC`` resize of the LR image back to the HR size. DIP is
``prepare_super_resolution(lr, factor)`` (Lanczos2 decimation in the loss,
the paper's schedule: 2000 iterations, lr 0.01, sigma_p = 1/30, last output,
seed 0) on the 8-bit LR image; its 8-bit output is scored.

PSNR is measured as in the SR literature and the paper: on the Y channel of
ITU-R BT.601 YCbCr (MATLAB ``rgb2ycbcr``), after removing ``factor`` pixels at
every border.

Modes
-----
full (default): all five Set5 images, 128 x 128 HR centre crops (32 x 32 LR),
``fast`` preset, 2000 iterations; about 10 minutes on one CPU thread. The
``paper`` preset costs 5x more per iteration on this CPU (see speed.py); add
it with ``--presets paper,fast`` when you have the time.
``--quick``: butterfly and bird, 64 x 64 crops, 300 iterations.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SET5 = ("baby", "bird", "butterfly", "head", "woman")


def low_and_high(image: np.ndarray, size: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """The 8-bit HR crop and its Lanczos down-sampled LR version."""
    from PIL import Image

    if size:
        image = common.crop(image, size)
    height, width = (s - s % factor for s in image.shape[:2])
    hr = np.round(image[:height, :width] * 255).astype(np.uint8)
    lr = np.asarray(Image.fromarray(hr).resize((width // factor, height // factor), Image.LANCZOS))
    return lr, hr


def bicubic(lr: np.ndarray, factor: int) -> np.ndarray:
    from PIL import Image

    height, width = lr.shape[:2]
    return np.asarray(Image.fromarray(lr).resize((width * factor, height * factor), Image.BICUBIC))


def y_psnr(output: np.ndarray, hr: np.ndarray, border: int) -> float:
    """PSNR of the BT.601 Y channel with ``border`` pixels removed on every side."""
    y_out, y_ref = common.y_channel(common.to_float(output)), common.y_channel(common.to_float(hr))
    inner = (slice(border, -border or None),) * 2
    return common.psnr(y_out[inner], y_ref[inner])


def back_projected(up: np.ndarray, lr: np.ndarray, factor: int, steps: int = 1) -> np.ndarray:
    """An 8-bit up-sampled image back-projected onto its 8-bit LR image (the engine's finishing step)."""
    from napari_dip.core.physics.operators import back_project

    high, low = (common.to_float(a).transpose(2, 0, 1).copy() for a in (up, lr))
    return common.quantize(back_project(high, low, factor, steps).transpose(1, 2, 0))


def dip(lr: np.ndarray, hr: np.ndarray, factor: int, preset: str, iterations: int) -> dict[str, tuple]:
    """The preset's output, and the same fit's output without its back-projection, with the fit's seconds."""
    from napari_dip.core.tasks.prepare import prepare_super_resolution

    task = prepare_super_resolution(lr, factor, preset=preset, iterations=iterations, seed=0, device="cpu",
                                    reference=hr, channel_axis=-1 if lr.ndim == 3 else None)
    with common.Timer() as timer:
        output, result = task.run()
    steps = task.settings["back_projections"]
    results = {f"DIP {preset}" + (f" ({steps} back-projection)" if steps else ""): (output, timer.seconds)}
    if steps:
        results[f"DIP {preset}, same fit without back-projection"] = (task.to_image(result.image), timer.seconds)
    return results


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--factor", type=int, default=4)
    p.add_argument("--size", type=int, help="HR crop side, 0 = whole image (full 128, quick 64)")
    p.add_argument("--iterations", type=int, help="DIP iterations (full 2000, quick 300)")
    p.add_argument("--images", help=f"comma-separated, from {', '.join(SET5)}")
    p.add_argument("--presets", default="fast", help="comma-separated DIP presets (default fast)")
    args = p.parse_args(argv)
    common.setup(args)
    size = (64 if args.quick else 128) if args.size is None else args.size
    iterations = args.iterations or (300 if args.quick else 2000)
    names = args.images.split(",") if args.images else (["butterfly", "bird"] if args.quick else list(SET5))
    scores: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {}
    for name in names:
        lr, hr = low_and_high(common.load(args.data, f"set5/{name}.png"), size, args.factor)
        with common.Timer() as timer:
            up = bicubic(lr, args.factor)
        results = {"bicubic (Pillow)": (up, timer.seconds)}
        with common.Timer() as timer:
            projected = back_projected(up, lr, args.factor)
        results["bicubic + 1 back-projection"] = (projected, timer.seconds)
        for preset in args.presets.split(","):
            results.update(dip(lr, hr, args.factor, preset, iterations))
        for method, (output, secs) in results.items():
            scores.setdefault(method, []).append(y_psnr(output, hr, args.factor))
            seconds.setdefault(method, []).append(secs)
        print(f"done {name}: " + ", ".join(f"{m} {common.fmt(s[-1])}" for m, s in scores.items()), flush=True)
    headers = ["method", *names, "mean PSNR (dB)", "s / image"]
    rows = [[m, *(common.fmt(v) for v in vals), common.fmt(np.mean(vals)), common.fmt(np.mean(seconds[m]), 2)]
            for m, vals in scores.items()]
    crop = f"{size}x{size} HR centre crops" if size else "whole images"
    caption = (
        f"Super-resolution x{args.factor} on Set5 ({crop}; LR = Pillow Lanczos down-sampling of the 8-bit HR "
        f"crop): Y-channel (BT.601) PSNR in dB with {args.factor} border pixels removed. DIP: presets "
        f"{args.presets}, {iterations} iterations, seed 0 (fast: the EMA of the outputs, then one step of "
        "back-projection onto the LR image; the row without it is the same fit's output)."
    )
    return common.emit(f"Super-resolution x{args.factor} quality", caption, common.table(headers, rows), args)


if __name__ == "__main__":
    main()
