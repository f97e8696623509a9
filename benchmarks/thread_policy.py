"""Thread policy: the default call ``napari_dip.denoise(noisy)``, which adapts its thread count as it runs, and
the same call with one fixed thread (``threads=1``, all cores but one on 2 cores: the default before), idle and
next to one core-hungry process, side by side in one run.

For every denoising image of ``time_to_quality.py`` (sigma = 25/255, 128 x 128
crops; quick: one 64 x 64 crop and 60 iterations) the two policies take turns
(the order alternates from image to image), each timed from call to return.
``--load`` runs the same calls again next to one busy process (a Python busy
loop, as in ``speed.py --parts load``). Each row gives the wall time, the
automatic stop's iteration, the returned PSNR and how many iterations ran
with each thread count; the ratio is 1 thread / default on the same image in
the same state of the machine. Results differ slightly between the policies:
a fit's sums round differently with another thread count, which also moves
the automatic stop by tens to hundreds of iterations; the seconds per
iteration (wall time / iterations run) and their ratio compare the policies'
pace without that (on 2 cores the two passes of a SURE fit give the same numbers
with 1 thread and with 2, so there the results agree).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from speed import busy_process  # noqa: E402
from time_to_quality import IMAGES  # noqa: E402

POLICIES = {"1 thread": 1, "default": None}  # None: "adaptive" (run without OMP_NUM_THREADS set)


def call(noisy: np.ndarray, threads, iterations: int | None) -> tuple[float, object, np.ndarray]:
    """Wall time, history and output of one default call with ``threads`` (None: the engine's default)."""
    import napari_dip

    options = {} if iterations is None else {"iterations": iterations}
    start = time.perf_counter()
    output, history = napari_dip.denoise(noisy, threads=threads, return_history=True, **options)
    return time.perf_counter() - start, history, output


def split(history) -> str:
    return ", ".join(f"{n}: {k}" for n, k in sorted(history.thread_iterations.items(), reverse=True))


def policy_rows(args, loaded: bool) -> list[list[str]]:
    size = 64 if args.quick else 128
    names = IMAGES["denoise"][:1] if args.quick else IMAGES["denoise"]
    rows = []
    hog = busy_process() if loaded else None
    try:
        time.sleep(0.5 if loaded else 0.0)
        for k, name in enumerate(names):
            image = common.crop(common.load(args.data, name), size)
            if image.ndim == 2:
                image = np.repeat(image[..., None], 3, axis=-1)
            noisy = common.add_noise(image, 25 / 255)
            order = list(POLICIES) if k % 2 == 0 else list(POLICIES)[::-1]
            seconds, pace = {}, {}
            for policy in order:
                seconds[policy], history, output = call(noisy, POLICIES[policy], 60 if args.quick else None)
                pace[policy] = seconds[policy] / history.stop_iteration
                rows.append([Path(name).stem, "loaded" if loaded else "idle", policy, common.fmt(seconds[policy], 1),
                             history.stop_iteration, common.fmt(pace[policy], 4), common.fmt(common.psnr(output, image)),
                             split(history), "", ""])
            rows[-1][-2] = common.fmt(seconds["1 thread"] / seconds["default"])
            rows[-1][-1] = common.fmt(pace["1 thread"] / pace["default"])
            print(f"done {name} ({'loaded' if loaded else 'idle'}): {seconds}", flush=True)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    return rows


def medians(rows: list[list[str]]) -> list[list[str]]:
    out = []
    for state in dict.fromkeys(row[1] for row in rows):
        mine = [row for row in rows if row[1] == state]
        for policy in POLICIES:
            times = [float(row[3]) for row in mine if row[2] == policy]
            paces = [float(row[5]) for row in mine if row[2] == policy]
            ratios = [common.fmt(float(np.median([float(row[k]) for row in mine if row[k]]))) if policy == "default"
                      else "" for k in (8, 9)]
            out.append(["median", state, policy, common.fmt(float(np.median(times)), 1), "",
                        common.fmt(float(np.median(paces)), 4), "", "", *ratios])
    return out


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--load", action="store_true", help="also run every call next to one busy process")
    args = p.parse_args(argv)
    common.setup(args, engine_threads=False)
    rows = policy_rows(args, loaded=False)
    if args.load:
        rows += policy_rows(args, loaded=True)
    headers = ["image", "machine", "threads", "wall time (s)", "stopped at iteration", "s / iteration",
               "returned PSNR (dB)", "iterations per thread count", "1 thread / default time",
               "1 thread / default s / iteration"]
    caption = ("napari_dip.denoise(noisy) from call to return, sigma = 25/255, with threads=1 and with the engine's "
               "default (threads='adaptive': whichever of all cores and all but one is faster, measured as the fit "
               "runs), taking turns on each image; 'loaded': next to one busy process.")
    return common.emit("Thread policy", caption, common.table(headers, rows + medians(rows)), args)


if __name__ == "__main__":
    main()
