"""Scratches on a photo at the size users have: inpainting around the mask against the whole-image fit and
biharmonic inpainting, in one run.

A few thin scratches (seeded random strokes 2-4 pixels wide, about 1 % of the
pixels) are painted on 512 x 512 photos. For each image the table gives:

* **biharmonic**: ``skimage.restoration.inpaint_biharmonic``, the classic a
  user would otherwise pick;
* **around the mask** (``region="mask"``, the default): the boxes
  :func:`~napari_dip.core.fitting.regions.plan_regions` plans around the
  scratches, each fitted by the default preset for ``kind="text"`` and pasted
  back seamlessly; the PSNR and the time are read at several iteration counts
  of one run per box (the same fits as the engine's, traced);
* **whole image** (``region="whole"``): seconds per iteration over a few
  iterations of the whole-image fit, and the time its default iteration count
  would take at that pace (projected, not run to the end).

PSNR is over the painted pixels only, against the clean photo (every other
pixel comes back unchanged with ``region="mask"``). ``--quick``: 192 x 192
crops, one image, traces to 40 iterations.

A second table (``--scaling``) inpaints the first image's scratches on the
photo and on a 1400 x 1400 image made by mirroring the photo around itself
(the scratches at the same pixels), ``--scaling-iterations`` per box with the
public ``napari_dip.inpaint``: the time of each, their ratio, and whether every
unpainted pixel came back unchanged.

A third table (``--defaults``) runs the public ``napari_dip.inpaint`` with its
defaults on the same scratches: it holds out known pixels shaped like the
scratches, stops once their error stops falling, and averages each box's fill
with biharmonic inpainting by the share those pixels choose. Beside it, in the
same run: the same call with ``classic=None`` (the fit's own fill), biharmonic,
and the time of 100 iterations of the whole-image fast fit (its pace over a few
iterations, times 100).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

IMAGES = ("dip/denoising/F16_GT.png", "dip/restoration/kate.png", "set5/baby.png")


def scratches(shape: tuple[int, int], count: int = 4, seed: int = 0) -> np.ndarray:
    """``count`` thin curved strokes (True = painted), each 60-160 pixels long and 2-4 pixels wide."""
    from skimage.draw import disk

    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, bool)
    for _ in range(count):
        y, x = rng.uniform(0.1, 0.9, 2) * shape
        angle, length, radius = rng.uniform(0, np.pi), rng.uniform(60, 160), rng.uniform(1.0, 2.0)
        bend = rng.uniform(-0.01, 0.01)
        for _ in range(int(length)):
            mask[disk((y, x), radius, shape=shape)] = True
            angle += bend
            y, x = y + np.sin(angle), x + np.cos(angle)
    return mask


def painted_psnr(output: np.ndarray, clean: np.ndarray, mask: np.ndarray) -> float:
    return common.psnr(output[mask], clean[mask])


def trace_regions(masked: np.ndarray, mask: np.ndarray, checkpoints: list[int]) -> dict[int, tuple[np.ndarray, float]]:
    """The pasted result and the seconds spent after each checkpoint's iterations in every box."""
    from napari_dip.core.fitting.regions import plan_regions, seamless_paste
    from napari_dip.core.tasks.prepare import prepare_inpaint

    pasted = {n: masked.copy() for n in checkpoints}
    seconds = dict.fromkeys(checkpoints, 0.0)
    for box in plan_regions(mask, 32).boxes:
        crop, missing = masked[box], mask[box]
        run = prepare_inpaint(crop, missing, channel_axis=-1, region="whole", iterations=max(checkpoints),
                              preview_every=min(checkpoints), device="cpu", seed=0)
        start = time.perf_counter()
        for record in run.steps():
            if record.iteration in pasted:
                seconds[record.iteration] += time.perf_counter() - start
                raw = (record.ema_image if run.use_ema else record.image).transpose(1, 2, 0)
                filled = seamless_paste(crop.transpose(2, 0, 1), raw.transpose(2, 0, 1), missing)
                pasted[record.iteration][box] = filled.transpose(1, 2, 0)
                start = time.perf_counter()
    return {n: (pasted[n], sum(seconds[m] for m in checkpoints if m <= n)) for n in checkpoints}


def whole_pace(masked: np.ndarray, mask: np.ndarray, iterations: int) -> tuple[float, int]:
    """Seconds per iteration of the whole-image fit over ``iterations`` (after one warm-up), and its default
    iteration count."""
    from napari_dip.core.tasks.prepare import prepare_inpaint

    run = prepare_inpaint(masked, mask, channel_axis=-1, region="whole", device="cpu", seed=0)
    default = run.fit.config.iterations
    steps = run.steps()
    next(steps)
    start = time.perf_counter()
    for _ in range(iterations):
        next(steps)
    return (time.perf_counter() - start) / iterations, default


def scaling_table(args, clean: np.ndarray, mask: np.ndarray) -> str:
    """The same scratches on the photo and on a 1400 x 1400 mirror-padded version of it, timed end to end."""
    import napari_dip

    side, iterations = (256 if args.quick else 1400), args.scaling_iterations
    rows, first = [], None
    for image, missing in ((clean, mask), (np.pad(clean, ((0, side - clean.shape[0]), (0, side - clean.shape[1]),
                                                          (0, 0)), mode="symmetric"),
                                           np.pad(mask, ((0, side - mask.shape[0]), (0, side - mask.shape[1]))))):
        masked = np.where(missing[..., None], 0.0, image).astype(np.float32)
        start = time.perf_counter()
        output = napari_dip.inpaint(masked, missing, iterations=iterations, device="cpu", seed=0)
        seconds = time.perf_counter() - start
        first = first or seconds
        unchanged = bool(np.array_equal(output[~missing], masked[~missing]))
        rows.append([f"{image.shape[0]} x {image.shape[1]}", common.fmt(seconds, 1), common.fmt(seconds / first),
                     "yes" if unchanged else "no"])
    return common.table(["image", "seconds", "ratio", "every unpainted pixel unchanged"], rows)


def defaults_table(args, images: list[tuple[str, np.ndarray, np.ndarray]]) -> str:
    """The engine's default inpainting against biharmonic and 100 whole-image fast iterations, per image."""
    from skimage.restoration import inpaint_biharmonic

    from napari_dip.core.tasks.prepare import prepare_inpaint

    rows = []
    for label, clean, mask in images:
        masked = np.where(mask[..., None], 0.0, clean).astype(np.float32)
        start = time.perf_counter()
        classic = inpaint_biharmonic(masked, mask, channel_axis=-1)
        rows.append([label, "biharmonic", "-", "-", common.fmt(time.perf_counter() - start, 2),
                     common.fmt(painted_psnr(classic, clean, mask))])
        pace, _ = whole_pace(masked, mask, 3 if args.quick else 5)
        budget = 100 * pace
        rows.append([label, "100 whole-image fast iterations (time only)", "-", "-", common.fmt(budget, 0), "-"])
        for name, options in (("default", {}), ("default, classic=None", {"classic": None})):
            start = time.perf_counter()
            capped = {} if args.iterations is None else {"iterations": args.iterations}
            run = prepare_inpaint(masked, mask, channel_axis=-1, device="cpu", seed=0, **capped, **options)
            output, fit = run.run()
            seconds = time.perf_counter() - start
            share, boxes = run.settings.get("classic_share"), run.settings.get("region_count", 1)
            rows.append([label, name, f"{len(fit.history.iterations) / boxes:.0f} ({boxes} boxes)",
                         "-" if share is None else f"{share:.2f}",
                         f"{common.fmt(seconds, 0)} ({seconds / budget:.2f}x)",
                         common.fmt(painted_psnr(output, clean, mask))])
    return common.table(["image", "method", "iterations per box", "DIP share", "seconds (x the 100 iterations)",
                         "PSNR painted pixels (dB)"], rows)


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--size", type=int, help="crop side (default 512; 192 with --quick)")
    p.add_argument("--checkpoints", default=None, help="iterations per box to read (default 250,500,1000)")
    p.add_argument("--scaling", action="store_true", help="also time the scratches on a 1400 x 1400 image")
    p.add_argument("--scaling-iterations", type=int, default=100, help="iterations per box of --scaling")
    p.add_argument("--defaults", action="store_true", help="only the table of the default call (see above)")
    p.add_argument("--iterations", type=int, help="--defaults: cap the default's iterations (a quick check)")
    p.add_argument("--images", default=None, help="indices of the images to run (default: all), e.g. 0,2")
    args = p.parse_args()
    common.setup(args)
    from skimage.restoration import inpaint_biharmonic

    size = args.size or (192 if args.quick else 512)
    checkpoints = sorted(int(v) for v in (args.checkpoints or ("20,40" if args.quick else "250,500,1000"))
                         .split(","))
    cases = []
    for index, name in enumerate(IMAGES):
        if (args.images is None and (index == 0 or not args.quick)) or str(index) in (args.images or "").split(","):
            clean = common.crop(common.load(args.data, name), size)
            clean = clean if clean.ndim == 3 else np.repeat(clean[..., None], 3, axis=-1)
            mask = scratches(clean.shape[:2], seed=index)
            cases.append((f"{Path(name).stem} ({100 * mask.mean():.1f} % painted)", clean, mask))
    if args.defaults:
        caption = (f"Scratches on {size} x {size} RGB photos; napari_dip.inpaint with its defaults (kind='text', "
                   "region='mask'); seconds end to end.")
        common.emit("Inpainting with the defaults", caption, defaults_table(args, cases), args)
        return
    rows, scaling = [], ""
    for label, clean, mask in cases:
        masked = np.where(mask[..., None], 0.0, clean).astype(np.float32)
        start = time.perf_counter()
        classic = inpaint_biharmonic(masked, mask, channel_axis=-1)
        classic_seconds = time.perf_counter() - start
        pace, default = whole_pace(masked, mask, 3 if args.quick else 5)
        if args.scaling and not scaling:
            scaling = scaling_table(args, clean, mask)
        rows.append([label, "biharmonic", "-", common.fmt(classic_seconds, 2),
                     common.fmt(painted_psnr(classic, clean, mask))])
        rows.append([label, "whole image (projected)", default, common.fmt(pace * default, 0) + f" ({pace:.2f} s/it)",
                     "-"])
        for iterations, (output, seconds) in trace_regions(masked, mask, checkpoints).items():
            rows.append([label, "around the mask", iterations, common.fmt(seconds, 1),
                         common.fmt(painted_psnr(output, clean, mask))])
    body = common.table(["image", "method", "iterations (per box)", "seconds", "PSNR painted pixels (dB)"], rows)
    caption = (f"Scratches on {size} x {size} RGB photos; the default preset of kind='text'. 'around the mask' "
               "fits the boxes around the scratches one after another (seconds summed over boxes); 'whole image' "
               "is the whole-image fit's pace times its default iteration count.")
    if scaling:
        body += (f"\n\nThe first image's scratches on the photo and on a mirror-padded larger image, "
                 f"napari_dip.inpaint with {args.scaling_iterations} iterations per box:\n\n{scaling}")
    common.emit("Inpainting around the mask", caption, body, args)


if __name__ == "__main__":
    main()
