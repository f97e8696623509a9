"""Photon-limited denoising: the Gaussian data term against two Poisson-Gaussian treatments.

A clean crop (camera, scaled to ``--photons`` photons at its brightest, plus a
floor of 2 % of the peak) is observed as ``gain * Poisson(photons) +
N(offset, read_noise**2)`` with gain 2, read noise 2 and offset 100 (numpy
seed 0), rounded to uint16 as a camera would. Every method fits the same
noisy image with the same network, seed and iterations (fast preset, EMA):

* Gaussian: the squared error on the image (``noise="gaussian"``);
* Poisson likelihood: the Poisson deviance of the shifted counts
  (``noise="poisson"``, :class:`napari_dip.core.physics.noise.PoissonLikelihood`);
* Anscombe: the squared error on the generalised Anscombe transform, mapped
  back with the closed-form exact unbiased inverse (Makitalo & Foi), and
  with the algebraic inverse to show its bias.

The gain, read noise and offset are estimated from each noisy image, as a user
without camera values would get them. PSNR (dB) is against the clean
intensities with the peak signal as the data range; the last column is the
mean seconds per fit.

full: 64 x 64, 500 iterations, 2, 10 and 50 photons (about 30 minutes on a busy 2-core machine).
``--quick``: 32 x 32, 40 iterations, 5 and 50 photons.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

GAIN, READ_NOISE, OFFSET = 2.0, 2.0, 100.0
METHODS = ("Gaussian (squared error)", "Poisson likelihood", "Anscombe + exact unbiased inverse",
           "Anscombe + algebraic inverse")


def observe(clean01: np.ndarray, photons: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(noisy uint16, clean intensities) for a [0, 1] image scaled to ``photons`` at its peak."""
    rng = np.random.default_rng(seed)
    rate = photons * (0.02 + 0.98 * clean01)
    noisy = GAIN * rng.poisson(rate) + rng.normal(OFFSET, READ_NOISE, rate.shape)
    return np.clip(np.rint(noisy), 0, 65535).astype(np.uint16), GAIN * rate + OFFSET


def anscombe_fit(noisy: np.ndarray, options: dict) -> tuple[np.ndarray, np.ndarray]:
    """Fit the Anscombe-transformed image; return (unbiased, algebraic) inverses as intensities."""
    from napari_dip.core.inputs.images import ImageInfo
    from napari_dip.core.inputs.noise_level import estimate_noise
    from napari_dip.core.physics.noise import anscombe, inverse_anscombe
    from napari_dip.core.tasks.build import build_run
    from napari_dip.core.tasks.preset_choice import choose_preset

    chw = noisy[None].astype(np.float64)
    model = estimate_noise(chw)
    d = anscombe(chw, model)
    low, high = d.min(), d.max()
    info = ImageInfo(np.dtype(np.float64), noisy.shape, None, np.array([low]), np.array([high]))
    target = ((d - low) / (high - low)).astype(np.float32)
    choice = choose_preset("denoise", options.pop("preset", "fast"))
    fitted, _ = build_run("denoise", target, info, choice, finish=lambda out: out * (high - low) + low,
                          **options).run()
    return inverse_anscombe(fitted, model)[0], inverse_anscombe(fitted, model, unbiased=False)[0]


def main() -> None:
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="crop side (default 64; 32 with --quick)")
    p.add_argument("--iterations", type=int, help="iterations per fit (default 500; 40 with --quick)")
    p.add_argument("--photons", help="comma-separated peak photon counts (default 2,10,50; 5,50 with --quick)")
    args = p.parse_args()
    args.data = "builtin"
    common.setup(args)
    import skimage.data

    import napari_dip

    size = args.size or (32 if args.quick else 64)
    iterations = args.iterations or (40 if args.quick else 500)
    levels = [float(v) for v in (args.photons or ("5,50" if args.quick else "2,10,50")).split(",")]
    clean01 = common.crop(skimage.data.camera() / 255.0, size, 200, 220)
    options = dict(preset="fast", iterations=iterations, seed=0, device="cpu")
    rows, seconds = [], {name: [] for name in ("noisy input", *METHODS)}
    for photons in levels:
        noisy, clean = observe(clean01, photons)
        peak = GAIN * photons
        results = {"noisy input": noisy.astype(np.float64)}
        with common.Timer() as t:
            results[METHODS[0]] = napari_dip.denoise(noisy, **options)
        seconds[METHODS[0]].append(t.seconds)
        with common.Timer() as t:
            results[METHODS[1]] = napari_dip.denoise(noisy, noise="poisson", **options)
        seconds[METHODS[1]].append(t.seconds)
        with common.Timer() as t:
            results[METHODS[2]], results[METHODS[3]] = anscombe_fit(noisy, options)
        seconds[METHODS[2]].append(t.seconds)
        seconds[METHODS[3]].append(t.seconds)
        rows.append({name: common.psnr(image, clean, peak) for name, image in results.items()})
    body = common.table(
        ["method", *[f"{v:g} photons" for v in levels], "s / fit"],
        [[name, *[common.fmt(r[name]) for r in rows], common.fmt(np.mean(seconds[name]) if seconds[name] else None)]
         for name in ("noisy input", *METHODS)],
    )
    caption = (f"Camera crop {size}x{size}, gain {GAIN:g}, read noise {READ_NOISE:g}, offset {OFFSET:g} (estimated "
               f"from each image); fast preset, {iterations} iterations, EMA, seed 0; PSNR against the clean "
               "intensities, data range = peak signal.")
    common.emit("Photon-limited denoising", caption, body, args)


if __name__ == "__main__":
    main()
