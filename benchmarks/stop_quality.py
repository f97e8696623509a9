"""What the defaults return at the sizes users have, against the classic method, and how long they ran.

For each task and image (the problems of ``benchmarks/problems.py``, the
images of ``time_to_quality.py``, ``--size`` crops) it runs, in the same
process:

* the classic method a user would otherwise pick: bicubic up-sampling
  (Pillow) for ``sr4``, biharmonic inpainting (scikit-image) for ``sparse``,
  ``text`` and ``hole``;
* the default call (``preset="auto"``, seed 0), as a user gets it: its own
  iteration count and automatic stop, and what it finishes with (the
  back-projection of super-resolution, the average with biharmonic of
  inpainting);
* with ``--options``, more runs of the default with other fit options (for
  example ``auto_stop=False,iterations=3000``: the same fit run on).

Each row gives the task's PSNR (super-resolution: Y channel, border removed;
inpainting: the image with its known pixels), the iterations run and the
seconds.

Modes
-----
full (default): ``sparse`` on three 256 x 256 crops (barbara, kate, F16);
10-20 minutes per image on one CPU thread of a shared 2-core machine
(``--tasks sr4``: Set5's baby, bird and butterfly, 2000 iterations each;
``--tasks hole``: kate, F16, barbara and the library under crops of the
paper's mask of large holes, 11-29 % of the pixels, up to 5000 iterations).
``--quick``: one 64 x 64 image per task, at most 200 iterations.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import problems  # noqa: E402
from inpaint_quality import biharmonic  # noqa: E402
from sr_quality import bicubic  # noqa: E402
from time_to_quality import IMAGES, MASK_AT  # noqa: E402

#: The classic method of each task.
CLASSIC = {"sr4": "bicubic", "sparse": "biharmonic", "text": "biharmonic", "hole": "biharmonic"}
QUICK_ITERATIONS = 200


def classic(problem: problems.Problem) -> np.ndarray:
    """The classic method's result for ``problem`` (the same calls as ``sr_quality.py`` and ``inpaint_quality.py``)."""
    if problem.task == "sr4":
        low = np.round(problem.inputs[0] * 255).astype(np.uint8)  # the 8-bit image problems.py made it from
        return common.to_float(bicubic(low, problem.kwargs["factor"]))
    return biharmonic(*problem.inputs)[0]


def default_run(problem: problems.Problem, options: dict) -> tuple[np.ndarray, int, dict]:
    """The default call's output, its iterations and its recorded settings."""
    from napari_dip.core.tasks.prepare import TASKS

    axis = -1 if problem.inputs[0].ndim == 3 else None
    run = TASKS[problem.engine_task](*problem.inputs, seed=0, device="cpu", channel_axis=axis,
                                     **problem.kwargs, **options)
    output, result = run.run()
    return output, result.history.stop_iteration, run.settings


def image_rows(task: str, name: str, args) -> list[list]:
    """The classic method's row and every run's row for one image."""
    image = common.crop(common.load(args.data, name), args.size)
    problem = problems.make(task, image, data=args.data, mask_at=MASK_AT.get(task, {}).get(name, (0, 0)))
    with common.Timer() as timer:
        output = classic(problem)
    rows = [[task, Path(name).stem, CLASSIC[task], common.fmt(problem.psnr(output)), "-", common.fmt(timer.seconds, 1)]]
    quick = {"iterations": QUICK_ITERATIONS} if args.quick else {}
    for options in [{}, *common.parse_options(args.options)]:
        with common.Timer() as timer:
            output, iterations, settings = default_run(problem, {**quick, **options})
        label = "default" + "".join(f", {key}={value}" for key, value in options.items())
        share = settings.get("classic_share")
        label += "" if share is None else f" (DIP share {share:.2f})"
        rows.append([task, Path(name).stem, label, common.fmt(problem.psnr(output)), iterations,
                     common.fmt(timer.seconds, 1)])
        print("  " + " | ".join(map(str, rows[-1])), flush=True)
    return rows


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--tasks", default="sparse", help=f"comma-separated among {', '.join(CLASSIC)}")
    p.add_argument("--size", type=int, help="crop side, the output's for sr4 (default 256; quick 64)")
    p.add_argument("--images", help="comma-separated image names (file stems), in the task's order")
    p.add_argument("--options", help="fit options of more runs of the default, e.g. "
                   "'auto_stop=False,iterations=3000' (one run per ';'-separated group)")
    args = p.parse_args(argv)
    common.setup(args)
    args.size = args.size or (64 if args.quick else 256)
    rows = []
    for task in args.tasks.split(","):
        names = IMAGES[task][:1] if args.quick else IMAGES[task]
        if args.images:
            names = [name for name in names if Path(name).stem in args.images.split(",")]
        for name in names:
            rows += image_rows(task, name, args)
    caption = (
        f"{args.size}x{args.size} crops (super-resolution: of the output); PSNR in dB (super-resolution: Y channel "
        "without a 4-pixel border; inpainting: the image with its known pixels). 'default': the task's default call "
        f"(preset 'auto', seed 0{f', at most {QUICK_ITERATIONS} iterations' if args.quick else ''}) with its own "
        "stop and finishing steps; 'iterations' are those it ran. Each image's rows ran one after the other in one "
        "process."
    )
    headers = ["task", "image", "method", "PSNR (dB)", "iterations", "seconds"]
    return common.emit("The defaults against the classic methods", caption, common.table(headers, rows), args)


if __name__ == "__main__":
    main()
