"""Helpers shared by the benchmark scripts: options, images, noise, PSNR, tables.

Images are read from ``--data DIR`` (default ``../shared/data`` next to the
repository). ``--data builtin`` (or a missing folder) swaps in images from
:mod:`skimage.data`, so the scripts (and their tests) run anywhere; the tables
then say so in their caption.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: Stand-ins from skimage.data for the reference images, used with ``--data builtin``.
BUILTIN = {
    "dip/denoising/F16_GT.png": "astronaut",
    "dip/restoration/kate.png": "chelsea",
    "dip/inpainting/kate.png": "chelsea",
    "dip/inpainting/library.png": "coffee",
    "dip/restoration/barbara.png": "camera",
    "set5/baby.png": "coffee",
    "set5/bird.png": "astronaut",
    "set5/butterfly.png": "chelsea",
    "set5/head.png": "rocket",
    "set5/woman.png": "coffee",
}


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a small run that finishes in a few minutes")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder of reference images, or 'builtin'")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: robust on a busy machine)")
    p.add_argument("--out", type=Path, help="also write the table (with the machine line) to this markdown file")
    return p


def setup(args: argparse.Namespace, engine_threads: bool = True) -> None:
    """Apply the shared options: torch threads; fall back to builtin images when --data is missing.

    With ``engine_threads``, ``--threads`` is also the thread count of every fit that names none: the engine's
    default follows ``OMP_NUM_THREADS`` (set here, for this process and the workers it starts) and would otherwise
    be ``threads="adaptive"``. The scripts that time that default pass False.
    """
    import torch

    torch.set_num_threads(args.threads)
    if engine_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.data != "builtin" and not Path(args.data).is_dir():
        print(f"note: {args.data} not found: using skimage.data stand-ins (--data builtin)")
        args.data = "builtin"


def load(data: str, name: str) -> np.ndarray:
    """Image ``name`` (a path relative to the data folder) as float32 in [0, 1], channels last."""
    if data == "builtin":
        import skimage.data

        image = getattr(skimage.data, BUILTIN[name])()
    else:
        import skimage.io

        image = skimage.io.imread(Path(data) / name)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    return (image / np.iinfo(image.dtype).max).astype(np.float32)


def crop(image: np.ndarray, size: int, top: int | None = None, left: int | None = None) -> np.ndarray:
    """A ``size`` x ``size`` crop at (top, left), centred when not given; clipped to fit the image."""
    height, width = image.shape[:2]
    size = min(size, height, width)
    top = (height - size) // 2 if top is None else min(top, height - size)
    left = (width - size) // 2 if left is None else min(left, width - size)
    return image[top : top + size, left : left + size]


def add_noise(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Additive Gaussian noise of std ``sigma`` (in [0, 1] units), clipped to [0, 1] as in the DIP code."""
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0.0, sigma, image.shape), 0, 1).astype(np.float32)


def psnr(image: np.ndarray, reference: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB."""
    mse = float(np.mean((np.asarray(image, np.float64) - np.asarray(reference, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(data_range**2 / mse)


def y_channel(rgb: np.ndarray) -> np.ndarray:
    """Luma of an RGB image in [0, 1] by ITU-R BT.601 (MATLAB's rgb2ycbcr), in [16/255, 235/255]."""
    rgb = np.asarray(rgb, np.float64)
    return (16 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255


def to_float(image: np.ndarray) -> np.ndarray:
    """Any image to float64 in [0, 1] (integers scaled by their dtype's maximum)."""
    if np.issubdtype(image.dtype, np.integer):
        return image / np.iinfo(image.dtype).max
    return np.asarray(image, np.float64)


def quantize(image: np.ndarray) -> np.ndarray:
    """Round a [0, 1] image to 8 bits (as a saved PNG would be), back in [0, 1]."""
    return np.round(np.clip(image, 0, 1) * 255) / 255


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table cell ('-' for None, 'inf' for infinity)."""
    if value is None:
        return "-"
    return "inf" if np.isinf(value) else f"{value:.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine(threads: int) -> str:
    """One line naming the machine, the software and the date."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    today = datetime.date.today().isoformat()
    return (f"Machine: {cpu}, {os.cpu_count()} CPU cores (shared), torch {torch.__version__} with {threads} "
            f"thread(s), Python {platform.python_version()}; run on {today}.")


def emit(title: str, caption: str, body: str, args: argparse.Namespace) -> str:
    """Print the titled table with its caption and machine line; also write it to ``--out``."""
    source = "skimage.data stand-ins (--data builtin)" if args.data == "builtin" else f"images from {args.data}"
    mode = "quick" if args.quick else "full"
    text = f"## {title}\n\n{body}\n\n{caption} Mode: {mode}; {source}.\n\n{machine(args.threads)}\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return text


def parse_options(text: str | None) -> list[dict]:
    """``--options``: semicolon-separated runs of comma-separated key=value fit options (values as Python
    literals); none given: no run."""
    import ast

    if not text:
        return []
    return [{key: ast.literal_eval(value) for key, value in (item.split("=") for item in run.split(",") if item)}
            for run in text.split(";")]
