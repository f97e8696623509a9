"""When does ``preset="sure"`` beat the default, and does its warning say so?

``preset="sure"`` fits Stein's risk estimate for white Gaussian noise; a
noisy photo clipped to [0, 1] breaks that model where it is clipped. On each
image (a centred crop, sigma = 25/255 Gaussian noise clipped to [0, 1], seed
0) the table gives the share of clipped values and the noise growth
(:mod:`napari_dip.core.inputs.noise_checks`), whether ``preset="sure"`` warns, and
the PSNR (dB) of what ``napari_dip.denoise(noisy, preset=...)`` returns
with no ground truth for ``sure`` and for ``fast`` (the default), each with
its own iterations and automatic stop.

full: 12 images at 128 x 128 (the time-to-quality set, 5 more Set5 and
skimage photos, and 2 with little clipping), about 45 minutes on one core;
``--images`` runs a comma-separated subset (names as in the table), so the
run can be split over cores. ``--quick``: 2 skimage images at 32 x 32, 5
iterations per fit.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

#: Image names: a path in the data folder, or ``sk:<name>`` for ``skimage.data.<name>``.
IMAGES = ("dip/denoising/F16_GT.png", "dip/restoration/kate.png", "dip/restoration/barbara.png", "set5/baby.png",
          "set5/butterfly.png", "set5/bird.png", "set5/woman.png", "set5/head.png", "sk:astronaut", "sk:coffee",
          "dip/inpainting/vase.png", "sk:chelsea")
QUICK_IMAGES = ("sk:astronaut", "sk:chelsea")


def load(data: str, name: str) -> np.ndarray:
    if name.startswith("sk:"):
        import skimage.data

        return common.to_float(getattr(skimage.data, name[3:])()).astype(np.float32)
    return common.load(data, name)


def label(name: str) -> str:
    return name[3:] if name.startswith("sk:") else Path(name).stem


def noisy_photos(args, size: int) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(label, clean, noisy) of each chosen photo: an RGB centred crop of ``size`` and its sigma = 25/255 version."""
    names = QUICK_IMAGES if args.quick else IMAGES
    if args.images:
        names = [name for name in dict.fromkeys(IMAGES + QUICK_IMAGES) if label(name) in args.images.split(",")]
    for name in names:
        image = common.crop(load(args.data, name), size)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        clean = image[..., :3]
        yield label(name), clean, common.add_noise(clean, 25 / 255)


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="crop side (default 128; 32 with --quick)")
    p.add_argument("--images", help="comma-separated image names, as in the table (default: all)")
    args = p.parse_args(argv)
    common.setup(args)
    import napari_dip
    from napari_dip.core.inputs.noise_checks import clipped_share, noise_growth

    size = args.size or (32 if args.quick else 128)
    extra = {"iterations": 5} if args.quick else {}
    rows = []
    for name, clean, noisy in noisy_photos(args, size):
        chw = np.moveaxis(noisy, -1, 0)
        options = {"seed": 0, "device": "cpu", "threads": args.threads, "channel_axis": -1, **extra}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sure = common.psnr(napari_dip.denoise(noisy, preset="sure", **options), clean)
        warned = any("preset='sure'" in str(w.message) for w in caught)
        fast = common.psnr(napari_dip.denoise(noisy, preset="fast", **options), clean)
        rows.append([name, f"{100 * clipped_share(chw):.1f}", f"{noise_growth(chw):.2f}",
                     "yes" if warned else "no", common.fmt(common.psnr(noisy, clean)), common.fmt(sure), common.fmt(fast),
                     f"{sure - fast:+.2f}"])
        print(" ".join(rows[-1]), flush=True)
    headers = ["image", "clipped values (%)", "noise growth", "sure warns", "noisy (dB)", "sure (dB)", "fast (dB)",
               "sure - fast (dB)"]
    caption = (f"PSNR over all channels of {size}x{size} crops with sigma = 25/255 Gaussian noise clipped to [0, 1] "
               "(seed 0); each preset with its own iterations and automatic stop, seed 0. 'sure warns': preset='sure' "
               "warned that the image is clipped (over 5 % of its values at a channel's extremes) or that its noise "
               "grows with the intensity (over 1.5).")
    return common.emit("preset='sure' on clipped photos", caption, common.table(headers, rows), args)


if __name__ == "__main__":
    main()
