"""Classic (non-learned) methods to compare DIP with, and a PSNR / SSIM table.

Each task has its usual baselines: non-local means, total variation and
wavelet denoising (and BM3D when the optional ``bm3d`` package imports; for
photon noise also the Anscombe transform + BM3D) for denoising and JPEG
restoration; bicubic and Lanczos upscaling for
super-resolution; biharmonic inpainting for inpainting. Every method takes the
same arrays as the DIP task (any dtype, channels on ``channel_axis``) and
returns an array of the DIP output's shape, dtype and value range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec

import numpy as np

from napari_dip.core.inputs.images import ImageInfo, prepare_image, restore_image, scale_like


def _hwc(chw: np.ndarray) -> np.ndarray:
    return np.moveaxis(chw, 0, -1)


def _chw(hwc_out: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Back to (C, H, W); some scikit-image functions drop a single channel axis."""
    return np.moveaxis(np.reshape(hwc_out, like.shape[1:] + like.shape[:1]), -1, 0)


def _sigma(chw: np.ndarray) -> float:
    """The noise standard deviation, the engine's estimate (no PyWavelets needed)."""
    from napari_dip.core.inputs.noise_level import gaussian_noise_variance

    return gaussian_noise_variance(chw) ** 0.5


def _nl_means(chw: np.ndarray) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    sigma = _sigma(chw)
    out = denoise_nl_means(_hwc(chw), h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6,
                           fast_mode=True, channel_axis=-1)
    return _chw(out, chw)


def _tv(chw: np.ndarray) -> np.ndarray:
    from skimage.restoration import denoise_tv_chambolle

    weight = max(_sigma(chw), 1e-3)  # TV weight of the order of the noise level
    return _chw(denoise_tv_chambolle(_hwc(chw), weight=weight, channel_axis=-1), chw)


def _wavelet(chw: np.ndarray) -> np.ndarray:
    from skimage.restoration import denoise_wavelet

    out = denoise_wavelet(_hwc(chw), method="BayesShrink", mode="soft", rescale_sigma=True, channel_axis=-1)
    return _chw(out, chw)


def bm3d_denoise(chw: np.ndarray, sigma: float) -> np.ndarray:
    """BM3D of a (C, H, W) image in [0, 1] with white Gaussian noise of std ``sigma``: CBM3D for RGB, BM3D per
    channel otherwise (and for an RGB image whose channels are equal, where CBM3D's colour transform fails)."""
    import bm3d

    chw = np.asarray(chw, np.float32)
    sigma = max(float(sigma), 1e-4)
    if chw.shape[0] == 3:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.asarray(_chw(bm3d.bm3d_rgb(_hwc(chw), sigma), chw), np.float32)
        if np.isfinite(out).all():
            return out
    return np.stack([bm3d.bm3d(channel, sigma) for channel in chw]).astype(np.float32)


def _bm3d(chw: np.ndarray) -> np.ndarray:
    return bm3d_denoise(chw, max(_sigma(chw), 1e-3))


def anscombe_bm3d(chw: np.ndarray, low: np.ndarray, span: np.ndarray) -> np.ndarray:
    """The classic pipeline for photon noise: the generalised Anscombe transform, BM3D, the exact unbiased inverse.

    ``chw`` (C, H, W) in [0, 1] maps to intensities as ``chw * span + low`` (per channel); the camera's gain and
    read noise are estimated from them as ``noise="poisson"`` estimates them.
    """
    from napari_dip.core.inputs.noise_level import estimate_noise
    from napari_dip.core.physics.noise import AnscombeUnits

    model = estimate_noise(chw.astype(np.float64) * span[:, None, None] + low[:, None, None])
    units = AnscombeUnits.of(chw, low, span, model)
    return units.inverse(bm3d_denoise(units.forward(chw), units.sigma))


def _resize(chw: np.ndarray, factor: int, resample: str) -> np.ndarray:
    from PIL import Image

    filters = {"bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
    height, width = chw.shape[1] * factor, chw.shape[2] * factor
    channels = [np.asarray(Image.fromarray(c.astype(np.float32), mode="F").resize((width, height), filters[resample]))
                for c in chw]
    return np.stack(channels)


def _biharmonic(chw: np.ndarray, missing: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    return _chw(inpaint_biharmonic(_hwc(chw), missing, channel_axis=-1), chw)


def bm3d_available() -> bool:
    """Whether the optional ``bm3d`` package is installed."""
    return find_spec("bm3d") is not None


def pywavelets_available() -> bool:
    """Whether PyWavelets (scikit-image's wavelet denoising needs it) is installed."""
    try:
        return find_spec("pywt") is not None
    except ValueError:  # a module set to None in sys.modules: not importable
        return False


def methods_for(task: str, noise: str = "gaussian") -> tuple[str, ...]:
    """Names of the classic methods that fit ``task`` (empty when there are none); denoising photon ``noise``
    adds the Anscombe transform + BM3D where ``bm3d`` is installed."""
    if task in ("denoise", "jpeg"):
        photon = ("anscombe-bm3d",) if task == "denoise" and noise == "poisson" else ()
        return ("nl-means", "tv", *(("wavelet",) if pywavelets_available() else ()),
                *(("bm3d", *photon) if bm3d_available() else ()))
    if task == "super_resolution":
        return ("bicubic", "lanczos")
    if task == "inpaint":
        return ("biharmonic",)
    return ()


def _upscaled_info(info: ImageInfo, factor: int) -> ImageInfo:
    shape = tuple(s * factor if a != info.channel_axis else s for a, s in enumerate(info.shape))
    return ImageInfo(info.dtype, shape, info.channel_axis, info.low, info.high)


def run_classic(
    method: str,
    image: np.ndarray,
    *extra: np.ndarray,
    channel_axis: int | None = None,
    factor: int = 1,
) -> np.ndarray:
    """Apply the classic ``method`` to ``image`` (``extra``: the mask for ``"biharmonic"``).

    Returns an array in the input's dtype and range; ``factor`` times larger
    per side for ``"bicubic"`` and ``"lanczos"``.
    """
    chw, info = prepare_image(image, channel_axis)
    denoisers: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "nl-means": _nl_means, "tv": _tv, "wavelet": _wavelet, "bm3d": _bm3d,
    }
    if method in (*denoisers, "anscombe-bm3d"):
        if "bm3d" in method and not bm3d_available():
            raise ValueError(f"method={method!r} needs the optional bm3d package: pip install bm3d.")
        if method == "wavelet" and not pywavelets_available():
            raise ValueError("method='wavelet' needs PyWavelets: pip install PyWavelets.")
        photon = method == "anscombe-bm3d"
        out = anscombe_bm3d(chw, info.low, info.high - info.low) if photon else denoisers[method](chw)
    elif method in ("bicubic", "lanczos"):
        if int(factor) < 2:
            raise ValueError(f"factor={factor!r}: upscaling needs an integer factor of 2 or more.")
        out, info = _resize(chw, int(factor), method), _upscaled_info(info, int(factor))
    elif method == "biharmonic":
        if len(extra) != 1:
            raise ValueError("method='biharmonic' needs the mask (True / > 0 = missing pixel) after the image.")
        missing = np.asarray(extra[0]) != 0
        if missing.shape != chw.shape[1:]:
            raise ValueError(f"The mask has shape {missing.shape} but the image's pixels are {chw.shape[1:]}: "
                             "pass a mask of the image's height and width.")
        out = _biharmonic(chw, missing)
    else:
        raise ValueError(f"Unknown classic method {method!r}: choose one of "
                         f"{', '.join([*denoisers, 'anscombe-bm3d', 'bicubic', 'lanczos', 'biharmonic'])}.")
    return restore_image(np.clip(out, 0, 1).astype(np.float32), info)


@dataclass(frozen=True)
class Score:
    """PSNR (dB) and SSIM of one result against a reference."""

    name: str
    psnr: float
    ssim: float


def score(name: str, image: np.ndarray, reference: np.ndarray, channel_axis: int | None = None) -> Score:
    """PSNR and SSIM (scikit-image metrics) of ``image`` against ``reference``, both mapped to [0, 1] alike."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    if np.shape(image) != np.shape(reference):
        raise ValueError(f"The result '{name}' has shape {np.shape(image)} but the reference has "
                         f"{np.shape(reference)}: choose a reference of the output's size.")
    ref, info = prepare_image(reference, channel_axis, name="reference")
    test = scale_like(image, info, name=name)
    side = min(ref.shape[1:])
    window = min(7, side if side % 2 else side - 1)
    psnr = float(peak_signal_noise_ratio(ref, test, data_range=1.0)) if not np.array_equal(ref, test) else math.inf
    ssim = float(structural_similarity(_hwc(ref), _hwc(test), data_range=1.0, channel_axis=-1, win_size=window))
    return Score(name, psnr, ssim)


def score_table(scores: list[Score]) -> str:
    """A markdown table of scores, best PSNR first."""
    rows = ["| method | PSNR (dB) | SSIM |", "|---|---|---|"]
    for s in sorted(scores, key=lambda s: -s.psnr):
        rows.append(f"| {s.name} | {s.psnr:.2f} | {s.ssim:.3f} |")
    return "\n".join(rows)
