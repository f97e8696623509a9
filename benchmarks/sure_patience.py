"""How long must ``preset="sure"`` wait past the minimum of its held-out error?

The automatic stop of ``preset="sure"`` keeps the image at the lowest error
on its held-out pixels and ends the fit once ``patience`` iterations have
passed without a lower one. On each image (the photos of
``sure_clipping.py``: centred crops, sigma = 25/255 Gaussian noise clipped to
[0, 1], seed 0) one ``preset="sure"`` fit runs all its iterations with the
clean image as ``reference=``, and the stop's own rule
(:class:`napari_dip.core.fitting.stopping.MinimumStopper`) is replayed on the scores
it saw for each patience: the fit does not depend on the patience, so this is
where a fit with that patience would stop and what it would return. The table
gives the stop's iteration and the PSNR (dB) of the image it keeps, beside the
best PSNR along the fit (found with the clean image), and what the default
(``preset="auto"``) picks for the image.

full: 12 images at 128 x 128, 600 iterations each (about 9 minutes on one
core; ``--images`` runs a comma-separated subset, so the run can be split
over cores). ``--quick``: 2 skimage images at 32 x 32, 120 iterations.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from sure_clipping import noisy_photos  # noqa: E402

PATIENCES = (30, 50, 100)


def scores_of(noisy: np.ndarray, clean: np.ndarray, iterations: int, threads: int | None) -> tuple[list, float]:
    """The (iteration, held-out error, PSNR of the kept image) of every check of one sure fit, and its s / it."""
    from napari_dip.core.tasks.prepare import prepare_denoise

    run = prepare_denoise(noisy, preset="sure", reference=clean, seed=0, device="cpu", threads=threads,
                          channel_axis=-1, iterations=iterations, patience=iterations)
    stopper, seen, psnr = run.fit._auto.stopper, [], {}
    check = stopper.check

    def recorded(score, output, iteration):  # the stop's own input, every check
        seen.append((iteration, score))
        return check(score, output, iteration)

    stopper.check = recorded
    start = time.perf_counter()
    for record in run.steps():
        if record.psnr_ema is not None:
            psnr[record.iteration] = record.psnr_ema
    seconds = (time.perf_counter() - start) / iterations
    return [(i, score, psnr[i]) for i, score in seen], seconds


def replay(scores: list, patience: int) -> tuple[int, float]:
    """Where a fit with ``patience`` stops, and the PSNR of the image its stop keeps."""
    import torch

    from napari_dip.core.fitting.stopping import MinimumStopper

    stopper = MinimumStopper(patience)
    for iteration, score, psnr in scores:
        if stopper.check(score, torch.tensor(psnr), iteration):
            return iteration, float(stopper.best_image)
    last, _, psnr = scores[-1]  # the fit ran to its end: it keeps the minimum, or its last image before the warm-up
    return last, psnr if stopper.best_image is None else float(stopper.best_image)


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="crop side (default 128; 32 with --quick)")
    p.add_argument("--iterations", type=int, help="iterations of each fit (default 600; 120 with --quick)")
    p.add_argument("--images", help="comma-separated image names, as in the table (default: all)")
    args = p.parse_args(argv)
    common.setup(args)
    from napari_dip.core.tasks.preset_choice import denoise_choice

    size = args.size or (32 if args.quick else 128)
    iterations = args.iterations or (120 if args.quick else 600)
    rows = []
    for name, clean, noisy in noisy_photos(args, size):
        picked, _ = denoise_choice(np.moveaxis(noisy, -1, 0).astype(np.float32), spatial_dims=2, noise="gaussian",
                                   options={}, dtype=np.dtype(np.float32))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the clipping warning: the table's "auto picks" column says it
            scores, seconds = scores_of(noisy, clean, iterations, args.threads)
        best_iteration, _, best = max(scores, key=lambda row: row[2])
        row = [name, picked, f"{best:.2f} ({best_iteration})", common.fmt(seconds, 3)]
        for patience in PATIENCES:
            stop, kept = replay(scores, patience)
            row.append(f"{stop} / {kept:.2f}")
        rows.append(row)
        print(" ".join(rows[-1]), flush=True)
    headers = ["image", "auto picks", "best PSNR along the fit (iteration)", "s / it",
               *(f"patience {patience}: stop / PSNR kept" for patience in PATIENCES)]
    caption = (f"preset='sure' on {size}x{size} crops with sigma = 25/255 Gaussian noise clipped to [0, 1] (seed 0), "
               f"one fit of {iterations} iterations per image (seed 0), its automatic stop replayed on the held-out "
               "errors it saw for each patience: the iteration where it would stop and the PSNR (dB, all channels) "
               "of the image it keeps. 'auto picks': what preset='auto' (the default) runs on the image.")
    return common.emit("preset='sure': the automatic stop's patience", caption, common.table(headers, rows), args)


if __name__ == "__main__":
    main()
