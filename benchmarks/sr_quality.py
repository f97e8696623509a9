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


def dip(lr: np.ndarray, hr: np.ndarray, factor: int, preset: str, iterations: int | None,
        options: dict | None = None) -> dict[str, tuple]:
    """The preset's output, and the same fit's output without its back-projection, with the fit's seconds and
    iterations (``iterations`` None: the preset's own, with its automatic stop where it has one)."""
    from napari_dip.core.tasks.prepare import prepare_super_resolution

    counted = {} if iterations is None else {"iterations": iterations}
    task = prepare_super_resolution(lr, factor, preset=preset, seed=0, device="cpu", reference=hr,
                                    channel_axis=-1 if lr.ndim == 3 else None, **counted, **(options or {}))
    with common.Timer() as timer:
        output, result = task.run()
    steps = task.settings["back_projections"]
    label = f"DIP {preset}" + "".join(f", {key}={value}" for key, value in (options or {}).items())
    ran = (timer.seconds, result.history.stop_iteration)
    results = {label + (f" ({steps} back-projection)" if steps else ""): (output, *ran)}
    if steps:
        results[f"{label}, same fit without back-projection"] = (task.to_image(result.image), *ran)
    return results


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--factor", type=int, default=4)
    p.add_argument("--size", type=int, help="HR crop side, 0 = whole image (full 128, quick 64)")
    p.add_argument("--iterations", type=int,
                   help="DIP iterations (default: each preset's own, with its automatic stop; quick 300)")
    p.add_argument("--images", help=f"comma-separated, from {', '.join(SET5)}")
    p.add_argument("--presets", default="fast", help="comma-separated DIP presets (default fast)")
    p.add_argument("--options", help="fit options of more DIP runs of each preset, e.g. "
                   "'auto_stop=False;holdout=0.02' (one run per ';'-separated group; default: the preset as is)")
    args = p.parse_args(argv)
    common.setup(args)
    size = (64 if args.quick else 128) if args.size is None else args.size
    iterations = 300 if args.quick and args.iterations is None else args.iterations
    names = args.images.split(",") if args.images else (["butterfly", "bird"] if args.quick else list(SET5))
    scores: dict[str, list[float]] = {}
    runs: dict[str, list[tuple]] = {}  # seconds and iterations of each method on each image
    for name in names:
        lr, hr = low_and_high(common.load(args.data, f"set5/{name}.png"), size, args.factor)
        with common.Timer() as timer:
            up = bicubic(lr, args.factor)
        results = {"bicubic (Pillow)": (up, timer.seconds, None)}
        with common.Timer() as timer:
            projected = back_projected(up, lr, args.factor)
        results["bicubic + 1 back-projection"] = (projected, timer.seconds, None)
        for preset in args.presets.split(","):
            for options in common.parse_options(args.options) or [{}]:
                results.update(dip(lr, hr, args.factor, preset, iterations, options))
        for method, (output, *ran) in results.items():
            scores.setdefault(method, []).append(y_psnr(output, hr, args.factor))
            runs.setdefault(method, []).append(ran)
        print(f"done {name}: " + ", ".join(f"{m} {common.fmt(s[-1])}" for m, s in scores.items()), flush=True)
    headers = ["method", *names, "mean PSNR (dB)", "mean - bicubic (dB)", "iterations", "s / iteration", "s / image"]
    bicubic_mean = np.mean(scores["bicubic (Pillow)"])
    rows = []
    for method, values in scores.items():
        seconds, counts = zip(*runs[method])
        ran = [count for count in counts if count]
        rows.append([method, *(common.fmt(v) for v in values), common.fmt(np.mean(values)),
                     common.fmt(np.mean(values) - bicubic_mean), " / ".join(map(str, ran)) or "-",
                     common.fmt(sum(seconds) / sum(ran), 3) if ran else "-", common.fmt(np.mean(seconds), 2)])
    crop = f"{size}x{size} HR centre crops" if size else "whole images"
    count = f"{iterations} iterations" if iterations else "each preset's own iterations and stop"
    caption = (
        f"Super-resolution x{args.factor} on Set5 ({crop}; LR = Pillow Lanczos down-sampling of the 8-bit HR "
        f"crop): Y-channel (BT.601) PSNR in dB with {args.factor} border pixels removed. DIP: presets "
        f"{args.presets}, {count}, seed 0 (fast: the EMA of the outputs, then one step of "
        "back-projection onto the LR image; the row without it is the same fit's output). 'iterations': what each "
        "fit ran, per image."
    )
    return common.emit(f"Super-resolution x{args.factor} quality", caption, common.table(headers, rows), args)


if __name__ == "__main__":
    main()
