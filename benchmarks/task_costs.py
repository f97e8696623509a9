"""What each task's default costs at the sizes users have: seconds per iteration and the longest it may run.

For every task and size the default call (``preset="auto"``) is prepared on a natural image (the astronaut,
resized; fluorescence: a synthetic 16-bit plane) with all the CPU's threads
(what ``threads="adaptive"`` keeps on a quiet machine; ``--threads`` sets
them), and its first iterations are
timed after one warm-up iteration. The table gives the preset the default
runs, the pieces it fits (tiles, or regions around an inpainting mask), the
median seconds per iteration, the most iterations it may run (its automatic
stop, where it has one, usually ends it sooner) and that many iterations'
time: the longest the default may take.

Tasks: denoise (RGB photo, sigma 25/255), denoise of a 16-bit fluorescence
plane, JPEG (quality 10), super-resolution x4 (the input a quarter of the size
per side; the size is the output's), inpainting of thin text all over the
image, of a few thin scratches (fitted around the mask), of large holes (a
few blobs, about 10 % of the pixels) and of 50 % missing pixels.

full: 256, 512, 1024 and 2048 pixels, 3 timed iterations. ``--quick``: 64 and 128, 2 timed iterations.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import problems  # noqa: E402
from inpaint_regions import scratches  # noqa: E402

TASKS = ("denoise", "fluorescence", "jpeg", "sr4", "text", "scratches", "hole", "sparse")


def options():
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--sizes", help="comma-separated sides (default 256,512,1024,2048; quick 64,128)")
    p.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated among {', '.join(TASKS)}")
    p.add_argument("--timed", type=int, help="timed iterations after one warm-up (default 3; quick 2)")
    p.set_defaults(threads=os.cpu_count())  # all cores: what threads="adaptive" keeps on a quiet machine
    args = p.parse_args()
    args.data = "builtin"  # the images come from skimage.data and the synthetic module
    common.setup(args)
    args.sizes = [int(s) for s in (args.sizes or ("64,128" if args.quick else "256,512,1024,2048")).split(",")]
    args.timed = args.timed or (2 if args.quick else 3)
    return args


def photo(size: int) -> np.ndarray:
    """The astronaut resized to ``size`` x ``size``, RGB in [0, 1]."""
    import skimage.data
    from skimage.transform import resize

    return resize(skimage.data.astronaut() / 255.0, (size, size), anti_aliasing=True).astype(np.float32)


def jpeg(image: np.ndarray, quality: int = 10) -> np.ndarray:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer)).astype(np.float32) / 255


def prepared(task: str, size: int):
    """The default TaskRun of ``task`` at ``size``."""
    from napari_dip.core.extras.synthetic import fluorescence_image
    from napari_dip.core.tasks.prepare import prepare_denoise, prepare_inpaint, prepare_jpeg, prepare_super_resolution

    image = photo(size)
    if task == "denoise":
        return prepare_denoise(common.add_noise(image, 25 / 255), channel_axis=-1)
    if task == "fluorescence":
        return prepare_denoise(fluorescence_image((size, size), photons=10, seed=0)[0])
    if task == "jpeg":
        return prepare_jpeg(jpeg(image), channel_axis=-1)
    if task == "sr4":
        return prepare_super_resolution(photo(size // 4), 4, channel_axis=-1)
    masks = {"text": lambda: problems.synthetic_text_mask((size, size)),
             "scratches": lambda: scratches((size, size)),
             "hole": lambda: problems.synthetic_hole_mask((size, size)),
             "sparse": lambda: np.random.default_rng(0).random((size, size)) < 0.5}
    missing = masks[task]()
    kind = task if task in ("sparse", "hole") else "text"
    return prepare_inpaint(image * ~missing[..., None], missing, channel_axis=-1, kind=kind)


def measure(task: str, size: int, timed: int) -> list[str]:
    """One table row: the default's preset, pieces, s / iteration, most iterations and their time."""
    import time

    run = prepared(task, size)
    fit = run.fit
    steps = run.steps()
    times = []
    for _ in range(timed + 1):
        start = time.perf_counter()
        next(steps)
        times.append(time.perf_counter() - start)
    steps.close()
    per = float(np.median(times[1:]))
    total = getattr(fit, "total", fit.config.iterations)
    boxes = len(fit.plan.boxes) if hasattr(fit, "plan") else 1
    pieces = "1" if boxes == 1 else f"{boxes} {fit.pieces.split()[0]}"
    settings = run.settings
    return [task, f"{size}", settings["preset"], pieces, common.fmt(per, 3), str(total),
            common.fmt(per * total / 60, 1)]


def main() -> None:
    args = options()
    rows = []
    for size in args.sizes:
        for task in args.tasks.split(","):
            rows.append(measure(task, size, args.timed))
            print("  " + " | ".join(rows[-1]), file=sys.stderr, flush=True)
    body = common.table(["task", "size (output)", "preset", "pieces", "s / iteration", "most iterations",
                         "their time (min)"], rows)
    caption = (f"The default of each task (preset 'auto') with {args.threads} thread(s): the median of {args.timed} "
               "timed iterations after one warm-up; 'most iterations' is the default's cap (over every piece), "
               "which its automatic stop, where it has one (denoise, JPEG, inpainting), usually cuts; region "
               "pieces differ in size, the first one is timed.")
    common.emit("What the defaults cost", caption, body, args)


if __name__ == "__main__":
    main()
