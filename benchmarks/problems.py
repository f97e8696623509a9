"""The restoration problems the benchmarks share: a clean image degraded for each task, and each task's PSNR.

Every problem is made the same way wherever it is used (time to quality, the classic baselines, the pictures of
the docs), so their numbers can be set side by side. Images come from ``../shared/data`` (see its README) or,
with ``--data builtin``, from scikit-image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import common
import numpy as np

#: The paper's text mask (white = known), cut at these (top, left) for each image of the text task.
TEXT_MASK = "dip/inpainting/kate_mask.png"
#: The paper's mask of large holes (the library's region inpainting; white = known), cut the same way.
HOLE_MASK = "dip/inpainting/library_mask.png"


@dataclass
class Problem:
    """Degraded ``inputs`` of a task function, the ``clean`` truth of its output and the task's keywords."""

    task: str  # a benchmark task: denoise, sr4, sr8, text, hole, sparse, jpeg
    inputs: tuple[np.ndarray, ...]
    clean: np.ndarray
    kwargs: dict = field(default_factory=dict)
    missing: np.ndarray | None = None  # inpainting: the pixels to fill

    @property
    def engine_task(self) -> str:
        """The engine's task (``napari_dip.core.tasks.prepare.TASKS``)."""
        return {"sr4": "super_resolution", "sr8": "super_resolution", "text": "inpaint", "hole": "inpaint",
                "sparse": "inpaint"}.get(self.task, self.task)

    def psnr(self, output: np.ndarray) -> float:
        """The task's PSNR of ``output`` (values in [0, 1]): on the Y channel (BT.601) without a ``factor``-pixel
        border for super-resolution, as the paper measures it; of the image with the known pixels kept for
        inpainting (the task changes only the painted ones); of the whole image otherwise."""
        output = np.asarray(output, np.float64)
        if self.task in ("sr4", "sr8"):
            border = self.kwargs["factor"]
            crop = (slice(border, -border), slice(border, -border))
            if output.ndim == 3:
                return common.psnr(common.y_channel(output)[crop], common.y_channel(self.clean)[crop])
            return common.psnr(output[crop], self.clean[crop])
        if self.missing is not None:
            missing = self.missing[..., None] if output.ndim == 3 else self.missing
            output = np.where(missing, output, self.clean)
        return common.psnr(output, self.clean)


def _masked(clean: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """The image with its missing pixels set to 0, as a user's damaged image would not hold them."""
    return (clean * ~(missing[..., None] if clean.ndim == 3 else missing)).astype(np.float32)


def synthetic_text_mask(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Lines of thin text over an image of ``shape`` (True = painted), about 5 % of the pixels."""
    from PIL import Image, ImageDraw, ImageFont

    canvas = Image.new("L", shape[::-1], 0)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=max(8, shape[0] // 12))
    rng = np.random.default_rng(seed)
    words = ["deep", "image", "prior", "napari", "restore", "mask", "stroke", "scratch"]
    for top in range(0, shape[0], max(10, shape[0] // 6)):
        line = " ".join(rng.choice(words, 6))
        draw.text((int(rng.integers(0, max(1, shape[1] // 8))), top), line, fill=255, font=font)
    return np.asarray(canvas) > 127


def synthetic_hole_mask(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A few thick blobs over an image of ``shape`` (True = painted), about 10 % of the pixels."""
    from skimage.draw import ellipse

    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, bool)
    for _ in range(4):
        centre = rng.uniform(0.15, 0.85, 2) * shape
        radii = rng.uniform(0.06, 0.12, 2) * min(shape)
        mask[ellipse(*centre, *radii, shape=shape)] = True
    return mask


def paper_mask(data: str, shape: tuple[int, int], top: int, left: int, *, holes: bool = False) -> np.ndarray:
    """A crop of the paper's text mask, or of its mask of large ``holes`` (True = painted); synthetic text or
    blobs with ``--data builtin``."""
    if data == "builtin":
        return (synthetic_hole_mask if holes else synthetic_text_mask)(shape, seed=top + left)
    mask = common.load(data, HOLE_MASK if holes else TEXT_MASK)
    mask = mask[..., 0] if mask.ndim == 3 else mask
    return mask[top:top + shape[0], left:left + shape[1]] < 0.5


def make(task: str, clean: np.ndarray, *, data: str = "builtin", mask_at: tuple[int, int] = (0, 0),
         sigma: float = 25 / 255, seed: int = 0, quality: int = 10) -> Problem:
    """The ``task`` problem of ``clean`` (float in [0, 1], channels last)."""
    if task == "denoise":
        return Problem(task, (common.add_noise(clean, sigma, seed),), clean)
    if task in ("sr4", "sr8"):
        from PIL import Image

        factor = int(task[2:])
        height, width = (s - s % factor for s in clean.shape[:2])
        hr = np.round(clean[:height, :width] * 255).astype(np.uint8)
        lr = np.asarray(Image.fromarray(hr).resize((width // factor, height // factor), Image.LANCZOS))
        return Problem(task, ((lr / 255).astype(np.float32),), (hr / 255).astype(np.float32), {"factor": factor})
    if task == "jpeg":
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(np.round(clean * 255).astype(np.uint8)).save(buffer, format="JPEG", quality=quality)
        damaged = np.asarray(Image.open(buffer)).astype(np.float32) / 255
        return Problem(task, (damaged,), clean)
    if task in ("text", "hole"):
        missing = paper_mask(data, clean.shape[:2], *mask_at, holes=task == "hole")
    elif task == "sparse":
        missing = np.random.default_rng(seed).random(clean.shape[:2]) < 0.5
    else:
        raise ValueError(f"unknown benchmark task {task!r}")
    return Problem(task, (_masked(clean, missing), missing), clean, {"kind": task}, missing)
