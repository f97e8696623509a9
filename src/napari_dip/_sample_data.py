"""Small sample images for trying the widgets at once (built from skimage.data or in code, no download).

They are 128-192 pixels per side, so a fit with the "fast" preset takes about
a minute on a laptop CPU; the microscopy volume is 24 x 64 x 64. This module
imports neither torch nor Qt.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LayerData = tuple[np.ndarray, dict[str, Any], str]

# A 5x7 bitmap font with the letters the samples need.
_GLYPHS = {
    "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#",
    "D": "####.|#...#|#...#|#...#|#...#|#...#|####.",
    "E": "#####|#....|#....|####.|#....|#....|#####",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.###.",
    "I": ".###.|..#..|..#..|..#..|..#..|..#..|.###.",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
    "N": "#...#|##..#|#.#.#|#..##|#...#|#...#|#...#",
    "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.",
    "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    " ": ".....|.....|.....|.....|.....|.....|.....",
}


def _text_mask(shape: tuple[int, int], lines: list[tuple[int, int, str]], scale: int = 2) -> np.ndarray:
    """Boolean mask of ``lines`` (row, column, text) written in the bitmap font, ``scale`` pixels per dot."""
    mask = np.zeros(shape, dtype=bool)
    for row, col, text in lines:
        for k, char in enumerate(text):
            glyph = np.array([[c == "#" for c in line] for line in _GLYPHS[char].split("|")])
            glyph = np.kron(glyph, np.ones((scale, scale), dtype=bool))
            left = col + k * 6 * scale
            mask[row : row + glyph.shape[0], left : left + glyph.shape[1]] |= glyph
    return mask


def _resize_uint8(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from skimage.transform import resize

    return (resize(image, shape, anti_aliasing=True) * 255).round().astype(np.uint8)


def noisy_image() -> list[LayerData]:
    """The astronaut's face, 128x128 RGB, with Gaussian noise (sigma 25/255), and the clean image (hidden).

    The clean image can be chosen as the widgets' reference to see the PSNR during a fit.
    """
    from skimage import data

    clean = _resize_uint8(data.astronaut()[20:276, 120:376], (128, 128))
    noise = np.random.default_rng(0).normal(0, 25, clean.shape)
    noisy = np.clip(clean + noise, 0, 255).round().astype(np.uint8)
    return [
        (noisy, {"name": "noisy astronaut"}, "image"),
        (clean, {"name": "astronaut (clean)", "visible": False}, "image"),
    ]


def text_image() -> list[LayerData]:
    """A 128x192 photo of a cat with text painted over it, and the text as a Labels mask (label 1)."""
    from skimage import data

    image = _resize_uint8(data.chelsea(), (128, 192))
    lines = [(14, 34, "DEEP IMAGE"), (50, 66, "PRIOR"), (86, 58, "NAPARI")]
    mask = _text_mask(image.shape[:2], lines)
    painted = image.copy()
    painted[mask] = (255, 240, 90)
    return [
        (painted, {"name": "cat with text"}, "image"),
        (mask.astype(np.uint8), {"name": "cat with text mask", "opacity": 0.5}, "labels"),
    ]


def microscopy_volume() -> list[LayerData]:
    """A synthetic fluorescence Z-stack, 24x64x64 uint16 (Z voxels twice the Y / X pixels), and its clean version.

    Blobs and filaments, blurred, with photon (Poisson) and camera noise (see
    :mod:`napari_dip.core.extras.synthetic`). The clean layer (float32, hidden) can be
    chosen as the widgets' reference to see the PSNR during a fit.
    """
    from napari_dip.core.extras.synthetic import fluorescence_volume

    noisy, clean = fluorescence_volume((24, 64, 64), photons=30.0, z_step=2.0, seed=3)
    common = {"scale": (2.0, 1.0, 1.0), "colormap": "green",
              "contrast_limits": (float(clean.min()), float(clean.max()))}
    return [
        (noisy, {"name": "noisy cells (3D)", **common}, "image"),
        (clean, {"name": "cells (clean)", "visible": False, **common}, "image"),
    ]


def low_resolution_image() -> list[LayerData]:
    """A 48x48 RGB image (a cat's face): super-resolve it by 4 to 192x192."""
    from skimage import data

    return [(_resize_uint8(data.chelsea()[0:300, 60:360], (48, 48)), {"name": "small cat"}, "image")]
