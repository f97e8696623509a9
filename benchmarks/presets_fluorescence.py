"""Denoising presets on photon-limited fluorescence images, each with its own iterations and stop.

The time-to-quality benchmark measures the presets on photos; this one asks
whether a preset also serves microscopy. A synthetic fluorescence image
(:func:`napari_dip.core.extras.synthetic.fluorescence_image`: blobs and filaments,
blurred, Poisson photon noise + read noise, uint16, seed 0) is denoised by
each preset with each data term (``noise="gaussian"``: squared error;
``noise="poisson"``: the photon-noise likelihood, camera values estimated
from the image), exactly as ``napari_dip.denoise(noisy, preset=...,
noise=...)`` runs it: the preset's iterations and automatic stop. A
combination the API refuses is shown as "refused". PSNR (dB) is against the
clean intensities with their range as the data range; "stop" is the
iteration the fit ended at.

full: 128 x 128, 10 and 50 photons, presets fast and drp (about 15 minutes on 2 cores).
``--quick``: 32 x 32, 5 photons, 10 iterations per fit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NOISE_TERMS = ("gaussian", "poisson")


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="image side (default 128; 32 with --quick)")
    p.add_argument("--photons", help="comma-separated photon levels (default 10,50; 5 with --quick)")
    p.add_argument("--presets", default="fast,drp", help="comma-separated denoising presets (default fast,drp)")
    args = p.parse_args(argv)
    common.setup(args)
    args.data = "napari_dip.core.extras.synthetic"  # for the caption: the images are made in code
    import napari_dip
    from napari_dip.core.extras.synthetic import fluorescence_image

    size = args.size or (32 if args.quick else 128)
    levels = [float(v) for v in (args.photons or ("5" if args.quick else "10,50")).split(",")]
    presets = args.presets.split(",")
    extra = {"iterations": 10} if args.quick else {}
    images = {photons: fluorescence_image((size, size), photons=photons) for photons in levels}
    rows = [["noisy input", "-", *[cell for photons in levels for cell in
                                   (common.fmt(psnr(images[photons][0], images[photons][1])), "-")], "-"]]
    for preset in presets:
        for noise in NOISE_TERMS:
            cells, seconds = [], []
            for photons in levels:
                noisy, clean = images[photons]
                try:
                    with common.Timer() as t:
                        out, history = napari_dip.denoise(noisy, preset=preset, noise=noise, seed=0, device="cpu",
                                                          threads=args.threads, return_history=True, **extra)
                except ValueError:
                    cells += ["refused", "-"]
                    continue
                cells += [common.fmt(psnr(out, clean)), str(history.stop_iteration)]
                seconds.append(t.seconds)
            rows.append([preset, noise, *cells, common.fmt(np.mean(seconds), 1) if seconds else "-"])
    headers = ["preset", "data term", *[h for photons in levels for h in (f"{photons:g} photons", "stop")], "s / fit"]
    caption = (f"Synthetic fluorescence images {size}x{size} (uint16, Poisson + read noise 2, seed 0); each preset "
               "with its own iterations and automatic stop" + (" (10 iterations: quick)" if args.quick else "") +
               "; PSNR against the clean intensities.")
    return common.emit("Denoising presets on fluorescence images", caption, common.table(headers, rows), args)


def psnr(image: np.ndarray, clean: np.ndarray) -> float:
    """PSNR (dB) of ``image`` against the clean intensities, with their range as the data range."""
    return common.psnr(image.astype(np.float64), clean, float(clean.max() - clean.min()))


if __name__ == "__main__":
    main()
