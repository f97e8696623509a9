"""EMA or last output: which image should each task return?

Every task is fitted with the ``fast`` preset, without automatic stop, and
the clean image as reference; PSNR is read every 10 iterations for both the
exponential moving average of the outputs (EMA) and the last output. The
table gives, as medians over the images, both at the end of the run and at
their best, and which one each task returns with it
(:data:`napari_dip.core.tasks.presets.FAST_CHANGES` ``use_ema``). Super-resolution PSNR
is on the luma (Y) channel, as in the SR literature; the others over all
channels.

Problems: denoising sigma = 25/255, JPEG quality 10, super-resolution x4
(Lanczos down-sampled crops), inpainting of 50 % random pixels. Full mode:
2 images per task at 128 x 128 (the HR side for SR) and 800 iterations;
``--quick``: one image at 48 x 48 and 60 iterations.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import problems  # noqa: E402

IMAGES = ("dip/restoration/kate.png", "set5/butterfly.png")
TASKS = ("denoise", "jpeg", "super_resolution", "inpaint")


def curves(task: str, image: np.ndarray, iterations: int) -> dict[str, float]:
    """End and best PSNR of the EMA and of the last output over one fit."""
    from napari_dip.core.tasks.prepare import TASKS as PREPARE

    made = problems.make({"super_resolution": "sr4", "inpaint": "sparse"}.get(task, task), image)
    inputs, clean, kwargs = made.inputs, made.clean, made.kwargs
    run = PREPARE[task](*inputs, preset="fast", seed=0, device="cpu", channel_axis=-1, iterations=iterations,
                        auto_stop=False, preview_every=10, **kwargs)
    measure = (lambda x: common.psnr(common.y_channel(x.transpose(1, 2, 0)), common.y_channel(clean))) \
        if task == "super_resolution" else (lambda x: common.psnr(x.transpose(1, 2, 0), clean))
    last, ema = [], []

    def watch(record) -> None:
        if record.image is not None:
            last.append(measure(record.image))
            ema.append(measure(record.ema_image))

    run.run(watch)
    return {"last": last[-1], "ema": ema[-1], "best last": max(last), "best ema": max(ema),
            "default": "EMA" if run.use_ema else "last"}


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--iterations", type=int, help="iterations of every fit (full 800, quick 60)")
    p.add_argument("--tasks", default=",".join(TASKS))
    args = p.parse_args(argv)
    common.setup(args)
    size, names = (48, IMAGES[:1]) if args.quick else (128, IMAGES)
    iterations = args.iterations or (60 if args.quick else 800)
    rows = []
    for task in args.tasks.split(","):
        found = []
        for name in names:
            image = common.crop(common.load(args.data, name), size)
            if image.ndim == 2:
                image = np.repeat(image[..., None], 3, axis=-1)
            found.append(curves(task, image, iterations))
            print(f"done {task} {name}: {found[-1]}", flush=True)
        median = {key: float(np.median([f[key] for f in found])) for key in ("last", "ema", "best last", "best ema")}
        better = "EMA" if median["ema"] > median["last"] else "last"
        rows.append([task, *(common.fmt(median[k]) for k in ("last", "ema", "best last", "best ema")),
                     common.fmt(median["ema"] - median["last"]), better, found[0]["default"]])
    headers = ["task", "last (dB)", "EMA (dB)", "best last (dB)", "best EMA (dB)", "EMA - last at the end",
               "better at the end", "returned by default"]
    caption = (f"Fast preset, {iterations} iterations without automatic stop, medians over {len(names)} image(s) "
               f"of {size} x {size}; PSNR read every 10 iterations, on Y for super-resolution.")
    return common.emit("EMA or last output per task", caption, common.table(headers, rows), args)


if __name__ == "__main__":
    main()
