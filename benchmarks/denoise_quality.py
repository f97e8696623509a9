"""Denoising quality: Deep Image Prior against classical denoisers at sigma = 25/255.

Gaussian noise of std 25/255 (numpy seed 0, clipped to [0, 1] as in the DIP
code) is added to square crops of reference images. Every method sees the
same float noisy crop; PSNR is measured in float against the clean crop.

Methods
-------
* DIP, ``paper`` and ``fast`` presets (the task's paper schedule: lr 0.01,
  sigma_p = 1/30, seed 0): "last" is the final output, "EMA" the exponential
  moving average of the outputs (gamma 0.99), both from the same fit
  (``FitResult.last`` / ``FitResult.ema``). The "best EMA" row is the highest
  EMA PSNR seen during the fit (checked every 10 iterations) - an oracle that
  needs the ground truth, shown to measure what early stopping could gain.
* scikit-image non-local means (``denoise_nl_means``, h = 0.8 sigma_est,
  sigma = sigma_est from ``estimate_sigma``, patch 5, distance 6, fast mode),
  total variation (``denoise_tv_chambolle``, weight 0.1), wavelets
  (``denoise_wavelet``, BayesShrink, soft, YCbCr for colour), and BM3D when
  the optional ``bm3d`` package is installed (sigma_psd = 25/255). Without
  the optional PyWavelets, sigma_est comes from Immerkaer's estimator and
  the wavelet row is left out.
* With ``--auto-stop``: a separate DIP fit per preset with ``auto_stop=True``
  (variance-based early stopping, no ground truth), scored on the image it
  returns; at most the same number of iterations.

Modes
-----
full (default): crops of 128 x 128 of F16 (top-left 160, 128), kate
(restoration/kate.png, 96, 160) and Set5 baby (192, 192); 1800 iterations
(the paper's). About 25 minutes on one CPU thread.
``--quick``: F16 only, 64 x 64, 300 iterations; about a minute.
``--size``, ``--iterations``, ``--images`` and ``--presets`` override either.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SIGMA = 25 / 255
#: name -> (path in the data folder, top, left of the crop)
IMAGES = {
    "F16": ("dip/denoising/F16_GT.png", 160, 128),
    "kate": ("dip/restoration/kate.png", 96, 160),
    "baby": ("set5/baby.png", 192, 192),
}


def immerkaer_sigma(image: np.ndarray) -> float:
    """Noise std by Immerkaer's Laplacian-difference estimator (used when PyWavelets is missing)."""
    image = image[..., None] if image.ndim == 2 else image
    core = image[1:-1, 1:-1]
    sides = image[:-2, 1:-1] + image[2:, 1:-1] + image[1:-1, :-2] + image[1:-1, 2:]
    corners = image[:-2, :-2] + image[:-2, 2:] + image[2:, :-2] + image[2:, 2:]
    response = np.abs(4 * core - 2 * sides + corners)
    return float(np.sqrt(np.pi / 2) * response.mean() / 6)


def classical(noisy: np.ndarray) -> dict[str, np.ndarray]:
    """The scikit-image baselines (and BM3D when installed) on one noisy image."""
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet, estimate_sigma

    axis = -1 if noisy.ndim == 3 else None
    try:  # estimate_sigma and denoise_wavelet need the optional PyWavelets
        sigma = float(np.mean(estimate_sigma(noisy, channel_axis=axis)))
        wavelets = True
    except ImportError:
        sigma, wavelets = immerkaer_sigma(noisy), False
    methods = {
        "non-local means (skimage)": lambda: denoise_nl_means(
            noisy, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True, channel_axis=axis),
        "total variation (skimage)": lambda: denoise_tv_chambolle(noisy, weight=0.1, channel_axis=axis),
    }
    if wavelets:
        methods["wavelet BayesShrink (skimage)"] = lambda: denoise_wavelet(
            noisy, channel_axis=axis, convert2ycbcr=axis is not None, method="BayesShrink", mode="soft",
            rescale_sigma=True)
    try:
        import bm3d
    except ImportError:
        pass
    else:
        methods["BM3D (bm3d package)"] = lambda: (
            bm3d.bm3d_rgb(noisy, sigma_psd=SIGMA) if axis is not None else bm3d.bm3d(noisy, sigma_psd=SIGMA))
    results = {}
    for name, method in methods.items():
        with common.Timer() as timer:
            output = method()
        results[name] = (np.clip(output, 0, 1), timer.seconds)
    return results


def channels_last(chw: np.ndarray) -> np.ndarray:
    return np.moveaxis(chw, 0, -1) if chw.shape[0] > 1 else chw[0]


def dip_auto_stop(noisy: np.ndarray, clean: np.ndarray, preset: str, iterations: int) -> dict[str, tuple]:
    """A separate fit with ``auto_stop=True`` (no ground truth used); returns its chosen image."""
    from napari_dip.core.tasks.prepare import prepare_denoise

    task = prepare_denoise(noisy, preset=preset, iterations=iterations, seed=0, device="cpu", auto_stop=True)
    with common.Timer() as timer:
        _, result = task.run()
    note = f"stopped at iteration {result.history.stop_iteration}"
    return {f"DIP {preset}, auto-stop": (channels_last(result.image), timer.seconds, note)}


def dip(noisy: np.ndarray, clean: np.ndarray, preset: str, iterations: int) -> dict[str, tuple]:
    """One DIP fit; its last output, EMA, and the best EMA PSNR seen (oracle)."""
    from napari_dip.core.tasks.prepare import prepare_denoise

    task = prepare_denoise(noisy, preset=preset, iterations=iterations, seed=0, device="cpu", reference=clean)
    with common.Timer() as timer:
        _, result = task.run()
    chw = channels_last
    history = result.history
    best = int(np.argmax(history.psnr_ema))
    note = f"best at iteration {history.checked[best]}"
    return {
        f"DIP {preset}, last output": (chw(result.last), timer.seconds),
        f"DIP {preset}, EMA": (chw(result.ema), timer.seconds),
        f"DIP {preset}, best EMA (oracle)": (history.psnr_ema[best], timer.seconds, note),
    }


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="crop side (full 128, quick 64)")
    p.add_argument("--iterations", type=int, help="DIP iterations (full 1800, quick 300)")
    p.add_argument("--images", help=f"comma-separated, from {', '.join(IMAGES)}")
    p.add_argument("--presets", default="paper,fast", help="comma-separated DIP presets")
    p.add_argument("--auto-stop", action="store_true", help="add a separate auto-stop fit per preset")
    args = p.parse_args(argv)
    common.setup(args)
    size = args.size or (64 if args.quick else 128)
    iterations = args.iterations or (300 if args.quick else 1800)
    names = args.images.split(",") if args.images else (["F16"] if args.quick else list(IMAGES))
    scores: dict[str, list] = {}
    seconds: dict[str, list] = {}
    notes = []
    for name in names:
        path, top, left = IMAGES[name]
        clean = common.crop(common.load(args.data, path), size, top, left)
        noisy = common.add_noise(clean, SIGMA, seed=0)
        results = {"noisy input": (noisy, 0.0)}
        for preset in args.presets.split(","):
            results.update(dip(noisy, clean, preset, iterations))
            if args.auto_stop:
                results.update(dip_auto_stop(noisy, clean, preset, iterations))
        results.update(classical(noisy))
        for method, (output, secs, *extra) in results.items():
            value = output if np.isscalar(output) else common.psnr(output, clean)
            scores.setdefault(method, []).append(value)
            seconds.setdefault(method, []).append(secs)
            if extra:
                notes.append(f"{name}: {method.split(',')[0]} {extra[0]}")
        print(f"done {name}: " + ", ".join(f"{m} {common.fmt(s[-1])}" for m, s in scores.items()), flush=True)
    headers = ["method", *names, "mean PSNR (dB)", "s / image"]
    rows = [[m, *(common.fmt(v) for v in vals), common.fmt(np.mean(vals)), common.fmt(np.mean(seconds[m]), 2)]
            for m, vals in scores.items()]
    bm3d_note = "" if any(m.startswith("BM3D") for m in scores) else " BM3D: not run (optional `bm3d` not installed)."
    caption = (
        f"Denoising PSNR (dB) at sigma = 25/255 (seed 0, clipped) on {size}x{size} crops, DIP {iterations} "
        f"iterations per fit (presets {args.presets}; 'last' and 'EMA' come from the same fit, seconds are per fit; "
        f"the oracle row needs the clean image). {'; '.join(notes)}.{bm3d_note}"
    )
    return common.emit("Denoising quality", caption, common.table(headers, rows), args)


if __name__ == "__main__":
    main()
