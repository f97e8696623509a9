"""Time to quality: how soon each method reaches the paper preset's best picture, and what it returns unaided.

For every image of a task the **reference** is the task's ``paper`` preset
fitted with the clean image as ``reference=``: its best PSNR over the run
(of the image the task returns: the EMA for denoising, the last output
otherwise; checked every 10 iterations) and the fit time at which it first got
there. Every **candidate** is fitted the same way; the table gives, as medians
over the images:

* the fit time at which it first reached the reference's best - 0.2 dB, and the
  speed-up (reference time to its best / candidate time to the target);
* the PSNR of what it returns with no ground truth (its own stopping rule: the
  iteration count, or auto-stop) and the fit time that took.

Tasks (``--tasks``): ``denoise`` (sigma = 25/255, 128 x 128 crops, PSNR over all
channels in [0, 1], as the fit computes it), and at the sizes users have (256 x
256 crops, each with its own PSNR, benchmarks/problems.py, taken on previews every
10 iterations of the image the run would return): ``sr4`` and ``sr8`` (Set5,
Lanczos down-sampled; Y channel, border removed), ``text`` (the paper's text mask
on three photos), ``hole`` (its mask of large holes on four) and ``sparse`` (50 %
of the pixels missing), PSNR of the image with its known pixels; ``jpeg``
(quality 10). The older 128 x 128 ``super_resolution`` and ``inpaint`` tables
remain for comparison with earlier runs.

Fit times are iterations x each method's seconds per iteration, measured
side by side on each image (``--repace`` measures them again for cached
results), so a run made in parts, on a machine busy in between, keeps fair
ratios. A reference stops once ``--past-best`` dB (default 1) below its best.

Modes
-----
full (default): denoising on 5 images, the other tasks on 3, each method with its
preset's iterations. A paper reference at 256 x 256 runs 2000 (sr4) to 11000
(sparse) iterations of about 3 s each on 2 CPU cores: run them in parts with
``--cache FILE.json``, which keeps every reference trace, every method's outcome
and the seconds per iteration, so a later run (more images with ``--images``,
other candidates, an interrupted run) reuses them; a reference traced on its own
(``{"iterations", "psnr", "done"}`` under ``TASK:IMAGE:SIZE``) is read as one.
``--quick``: one image per task at 64 x 64 and at most 300
iterations. ``--default-call`` also times ``napari_dip.denoise(noisy)`` with
no other argument on each denoising image.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import problems  # noqa: E402

#: Images per task (paths in the data folder).
IMAGES = {
    "denoise": ("dip/denoising/F16_GT.png", "dip/restoration/kate.png", "dip/restoration/barbara.png",
                "set5/baby.png", "set5/butterfly.png"),
    "super_resolution": tuple(f"set5/{name}.png" for name in ("baby", "bird", "butterfly", "head", "woman")),
    "inpaint": ("dip/restoration/barbara.png", "dip/restoration/kate.png"),
    # At the sizes users have (256 x 256 and up), each with its own PSNR (benchmarks/problems.py).
    "sr4": ("set5/baby.png", "set5/bird.png", "set5/butterfly.png"),
    "sr8": ("set5/baby.png", "set5/bird.png", "set5/butterfly.png"),
    "text": ("dip/inpainting/kate.png", "dip/restoration/barbara.png", "dip/denoising/F16_GT.png"),
    "hole": ("dip/inpainting/kate.png", "dip/denoising/F16_GT.png", "dip/restoration/barbara.png",
             "dip/inpainting/library.png"),
    "sparse": ("dip/restoration/barbara.png", "dip/restoration/kate.png", "dip/denoising/F16_GT.png"),
    "jpeg": ("dip/denoising/F16_GT.png", "dip/restoration/kate.png", "set5/baby.png"),
}
#: Where each image of the text task cuts the paper's text mask (top, left); of the hole task, its mask of large
#: holes (crops holding 11-18 % of the pixels at 256 x 256; the library, the mask's own image, 29 % at its centre).
MASK_AT = {
    "text": {"dip/inpainting/kate.png": (0, 0), "dip/restoration/barbara.png": (256, 256),
             "dip/denoising/F16_GT.png": (128, 128)},
    "hole": {"dip/inpainting/kate.png": (160, 320), "dip/denoising/F16_GT.png": (128, 288),
             "dip/restoration/barbara.png": (192, 0), "dip/inpainting/library.png": (96, 224)},
}
#: The tasks measured with their own PSNR on previews (the others with the fit's PSNR of all channels).
PROBLEM_TASKS = ("sr4", "sr8", "text", "hole", "sparse", "jpeg")
#: Candidate methods: keywords of the task's prepare function (with the fast preset where they name none).
CANDIDATES = {
    "default: preset='auto' (sure; fast where sure's checks fail)": {"preset": "auto"},
    "fast + auto-stop": {},
    "fast + hold-out stop": {"holdout": 0.05},
    "fast + hold-out stop (2 % of the pixels)": {"holdout": 0.02},
    "fast + auto-stop + noise-level stop": {"stop_loss": "auto"},
    "fast + auto-stop + noise-level stop + code noise 1/60": {"stop_loss": "auto", "code_noise_std": 1 / 60},
    "fast run on (no auto-stop)": {"auto_stop": False},
    "fast + auto-stop + TV 0.01": {"tv_weight": 0.01},
    "preset='drp': 2 networks averaged (300 iterations)": {"preset": "drp"},
    "drp + TV 0.1 + hold-out stop": {"preset": "drp", "tv_weight": 0.1, "holdout": 0.05, "auto_stop": True,
                                     "patience": 200, "iterations": 1000},
    "preset='sure': the noisy image as input; SURE + blind spots": {"preset": "sure"},
}
MARGIN = 0.2  # dB below the reference's best that counts as reaching it
PACE_ROUNDS = 3  # rounds in which the methods take turns for their seconds per iteration


@dataclass
class Trace:
    """PSNR of the returned kind of image at the checked iterations, and what the fit returned."""

    iterations: list[int]
    psnr: list[float]
    returned_psnr: float | None  # None: a reference stopped once it was past its best
    stop_iteration: int | None  # where the fit ended (None: a reference stopped past its best)

    def first_iteration(self, target: float) -> int | None:
        """Checked iteration at which the PSNR first reached ``target`` (None if it never did)."""
        return next((i for i, p in zip(self.iterations, self.psnr) if p >= target), None)

    @property
    def best(self) -> float:
        return max(self.psnr)


@dataclass
class Case:
    """One image of a task: the engine task, its inputs and keywords, the clean truth and how PSNR is taken."""

    task: str  # the benchmark's task (a key of IMAGES)
    name: str
    engine_task: str
    inputs: tuple[np.ndarray, ...]
    clean: np.ndarray
    kwargs: dict
    problem: problems.Problem | None = None  # the tasks measured with their own PSNR on previews


def size_of(task: str, args) -> int:
    """The crop side of ``task``: ``--size``, else 256 for the tasks at the sizes users have, 128 for the others
    (64 with ``--quick``)."""
    return args.size or (64 if args.quick else 256 if task in PROBLEM_TASKS else 128)


def make_case(task: str, name: str, args) -> Case:
    image = common.crop(common.load(args.data, name), size_of(task, args))
    if task in PROBLEM_TASKS:
        prob = problems.make(task, image, data=args.data, mask_at=MASK_AT.get(task, {}).get(name, (0, 0)))
        return Case(task, name, prob.engine_task, prob.inputs, prob.clean, dict(prob.kwargs), prob)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if task == "denoise":
        return Case(task, name, task, (common.add_noise(image, 25 / 255, 0),), image, {})
    if task == "super_resolution":
        prob = problems.make("sr4", image)
        return Case(task, name, task, prob.inputs, prob.clean, {"factor": 4})
    prob = problems.make("sparse", image)
    return Case(task, name, task, prob.inputs, prob.clean, {"kind": "sparse"})


def prepare(case: Case, kwargs: dict):
    """The engine's TaskRun of ``case`` with ``kwargs``."""
    from napari_dip.core.tasks.prepare import TASKS

    axis = -1 if case.inputs[0].ndim == 3 else None
    return TASKS[case.engine_task](*case.inputs, seed=0, device="cpu", channel_axis=axis, **{**case.kwargs, **kwargs})


def trace(case: Case, kwargs: dict, past_best: float | None = None) -> Trace:
    """Fit one method with the clean reference and record its PSNR over time (the task's own PSNR of the image
    the run would return, on previews every 10 iterations, for the tasks that have one).

    With ``past_best`` (dB) the fit stops once its PSNR has fallen that far below its best so far: it is past
    its peak, and what it would return at the end is not recorded.
    """
    own = case.problem is not None
    run = prepare(case, {**kwargs, **({"preview_every": 10} if own else {"reference": case.clean})})
    values, iterations = [], []

    def watch(record) -> bool:
        if own and record.image is not None:
            value = case.problem.psnr(run.finish(record.ema_image if run.use_ema else record.image))
        else:
            value = None if own else record.psnr_ema if run.use_ema else record.psnr
        if value is not None:
            values.append(value)
            iterations.append(record.iteration)
        return past_best is None or not values or values[-1] > max(values) - past_best

    output, result = run.run(watch)
    if result.history.stop_reason == "interrupted":
        return Trace(iterations, values, None, None)
    returned = case.problem.psnr(output) if own else common.psnr(output, case.clean)
    return Trace(iterations, values, returned, result.history.stop_iteration)


def reference_key(case: Case, args) -> str:
    if case.problem is not None:  # the format of benchmarks/results/ttq_refs_256.json
        return f"{case.task}:{case.name}:{size_of(case.task, args)}"
    return f"{case.task}:{case.name}:{case.clean.shape}:{args.iterations}:{args.threads}:{args.past_best}"


def reference_trace(case: Case, args) -> Trace:
    """The paper preset's trace, from ``--cache`` when it holds this run."""
    key = reference_key(case, args)
    cached = read_cache(args.cache).get(key)
    if cached is not None and "done" in cached:  # a trace of references run on their own, in parts
        cached = {"iterations": cached["iterations"], "psnr": cached["psnr"], "returned_psnr": None,
                  "stop_iteration": None}
    if cached is None:
        cached = asdict(trace(case, {"preset": "paper", **args.extra}, args.past_best))
        if args.cache:  # re-read first: another run may have added references meanwhile
            args.cache.write_text(json.dumps({**read_cache(args.cache), key: cached}, indent=0))
    return Trace(**cached)


def read_cache(path: Path | None) -> dict:
    return json.loads(path.read_text()) if path and path.exists() else {}


def median(values: list[float | None], never: float | None = None) -> float | None:
    """The median of the values found; with ``never``, an image that never reached the target counts as that
    value (inf for times and iterations, 0 for speed-ups) instead of being left out."""
    found = [v if v is not None else never for v in values]
    found = [v for v in found if v is not None]
    return float(np.median(found)) if found else None


def iteration_times(case: Case, kwargs: dict, iterations: int) -> list[float]:
    """Seconds of each iteration of a short fit of a method, its first 5 iterations left out."""
    run = prepare(case, {**kwargs, "iterations": iterations})
    times = []
    run.run(lambda record: times.append(record.elapsed))
    return list(np.diff(times[5:]))


def seconds_per_iteration(case: Case, methods: dict[str, dict], rounds: int = PACE_ROUNDS,
                          iterations: int = 15) -> dict[str, float]:
    """Median seconds per iteration of every method, from short fits taking turns over ``rounds`` rounds.

    Taking turns spreads a change in the machine's load over all methods instead of skewing the ones measured then.
    """
    times: dict[str, list[float]] = {method: [] for method in methods}
    for _ in range(rounds):
        for method, kwargs in methods.items():
            times[method] += iteration_times(case, kwargs, iterations)
    return {method: float(np.median(values)) for method, values in times.items()}


def image_rows(task: str, name: str, args) -> dict[str, list]:
    """Every method's row on one image: iterations and time to the target, s/it, speed-up, what it returns.

    A method's outcome (in iterations and dB) and every method's seconds per iteration are kept in ``--cache``
    (keyed by the method's options and the preset they run), so images and methods can be run in parts; the seconds
    per iteration are measured side by side, for all methods at once, whenever one is missing or with ``--repace``.
    """
    case = make_case(task, name, args)
    pace_key = f"pace:{task}:{name}:{size_of(task, args)}:{args.threads}"
    cache = read_cache(args.cache)
    methods = {"paper (reference)": {"preset": "paper"},
               **{m: resolved_options(case, CANDIDATES[m]) for m in candidates(task, args)}}
    keys = {method: outcome_key(case, args, options) for method, options in methods.items()}
    ref = reference_trace(case, args)
    outcomes = {method: cache.get(key) for method, key in keys.items()}
    pace = cache.get(pace_key, {})
    if args.repace or any(method not in pace for method in methods):
        # Measured side by side now: fit times are iterations x these, so runs made in parts, or on a machine that
        # got busier in between, do not skew the ratios.
        pace = seconds_per_iteration(case, {method: {**args.extra, **fit_options(options)}
                                            for method, options in methods.items()})
    ref_iteration = ref.first_iteration(ref.best)
    outcomes["paper (reference)"] = {"reached": ref_iteration, "stop": ref.stop_iteration, "returned": ref.returned_psnr}
    for method in candidates(task, args):
        if outcomes[method] is None:
            options = methods[method]
            result = trace(case, {**args.extra, **fit_options(options)},
                           None if options.get("auto_stop", True) else args.past_best)
            outcomes[method] = {"reached": result.first_iteration(ref.best - MARGIN), "returned": result.returned_psnr,
                                "stop": result.stop_iteration}
        print(f"  {method}: {outcomes[method]}", flush=True)
    if args.cache:
        args.cache.write_text(json.dumps({**read_cache(args.cache), pace_key: pace,
                                          **{keys[m]: outcomes[m] for m in candidates(task, args)}}, indent=0))
    ref_time = ref_iteration * pace["paper (reference)"]
    print(f"done {task} {name}: reference best {ref.best:.2f} dB at iteration {ref_iteration} "
          f"({ref_time:.0f} s at {pace['paper (reference)']:.3f} s/it)", flush=True)
    rows = {}
    for method, outcome in outcomes.items():
        reached, stop, returned = outcome["reached"], outcome["stop"], outcome["returned"]
        time_to = None if reached is None else reached * pace[method]
        rows[method] = [reached, pace[method], time_to, None if time_to is None else ref_time / time_to, returned,
                        None if returned is None else returned - ref.best, None if stop is None else stop * pace[method]]
    return rows


#: Options of candidates made for denoising only: the noise-level stop, the hold-out stop, a named preset.
DENOISING_OPTIONS = ("stop_loss", "holdout", "preset")


def fit_options(options: dict) -> dict:
    """A candidate's keywords: the fast preset unless it names one."""
    return {"preset": "fast", **options}


def resolved_options(case: Case, options: dict) -> dict:
    """A denoising candidate's keywords with ``preset="auto"`` replaced by what it picks for this image (the same
    fit); other tasks keep "auto", which is their default's own settings."""
    if options.get("preset") != "auto" or case.engine_task != "denoise":
        return options
    from napari_dip.core.inputs.images import prepare_image
    from napari_dip.core.tasks.preset_choice import denoise_choice

    target, _ = prepare_image(case.inputs[0], -1)
    choice, _ = denoise_choice(target, options=options)
    rest = {key: value for key, value in options.items() if key != "preset"}
    return rest if choice == "fast" else {**rest, "preset": choice}


def candidates(task: str, args) -> list[str]:
    """The chosen candidates that apply to ``task``."""
    return [m for m in args.candidates if task == "denoise" or not set(CANDIDATES[m]) & set(DENOISING_OPTIONS)
            or CANDIDATES[m].get("preset") == "auto"]


def outcome_key(case: Case, args, options: dict) -> str:
    """The cache key of one method's outcome on one image: the run's settings, its options and the preset they
    use (so a changed preset is fitted again)."""
    from napari_dip.core.tasks.preset_choice import choose_preset

    settings = choose_preset(case.engine_task, fit_options(options)["preset"], factor=case.kwargs.get("factor", 1),
                             kind=case.kwargs.get("kind")).settings
    return (f"outcome:{case.task}:{case.name}:{size_of(case.task, args)}:{args.iterations}:{args.threads}:"
            f"{args.past_best}:{options}:{settings}")


def task_table(task: str, args) -> str:
    size = size_of(task, args)
    names = IMAGES[task][:1] if args.quick else IMAGES[task]
    if args.images:
        names = [name for name in names if Path(name).stem in args.images.split(",")]
    rows: dict[str, list[list]] = {}
    for name in names:
        for method, row in image_rows(task, name, args).items():
            rows.setdefault(method, []).append(row)
    table = []
    for method, values in rows.items():
        columns = list(zip(*values))
        reached = sum(v is not None for v in columns[0])
        table.append([method, f"{reached} / {len(values)}", common.fmt(median(columns[0], math.inf), 0),
                      common.fmt(median(columns[1]), 3), common.fmt(median(columns[2], math.inf), 1),
                      common.fmt(median(columns[3], 0.0), 1), common.fmt(median(columns[4])),
                      common.fmt(median(columns[5])), common.fmt(median(columns[6]), 1)])
    headers = ["method", f"reached best - {MARGIN} dB", "iterations to it", "s/it", "time to it (s)",
               "speed-up vs reference", "returned PSNR (dB)", "returned - reference best (dB)", "returned after (s)"]
    return f"**{task}** ({len(names)} image(s), {size}x{size})\n\n" + common.table(headers, table)


def default_call_table(args) -> str:
    """Wall time and PSNR of ``napari_dip.denoise(noisy)``, no other argument, on each denoising image."""
    import napari_dip

    size = size_of("denoise", args)
    rows = []
    for name in IMAGES["denoise"][:1] if args.quick else IMAGES["denoise"]:
        case = make_case("denoise", name, args)
        image, noisy = case.clean, case.inputs[0]
        start = time.perf_counter()
        output, history = napari_dip.denoise(noisy, return_history=True)
        seconds = time.perf_counter() - start
        picked = resolved_options(case, {"preset": "auto"}).get("preset", "fast")
        rows.append([Path(name).stem, f"{size}x{size}x3", picked, common.fmt(seconds, 1), history.stop_iteration,
                     common.fmt(common.psnr(noisy, image)), common.fmt(common.psnr(output, image))])
    seconds = [float(row[3]) for row in rows]
    rows.append(["median", "", "", common.fmt(float(np.median(seconds)), 1), "", "", ""])
    headers = ["image", "size", "preset picked", "napari_dip.denoise(noisy) wall time (s)", "stopped at iteration",
               "noisy PSNR (dB)", "returned PSNR (dB)"]
    return "**the default call**\n\n" + common.table(headers, rows)


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="side of the crops (default 128 for denoise, super_resolution and "
                   "inpaint, 256 for sr4, sr8, text, sparse and jpeg; 64 with --quick); the HR side for SR")
    p.add_argument("--iterations", type=int, help="iterations of every fit (default: each preset's own)")
    p.add_argument("--tasks", default="denoise,sr4,text,sparse",
                   help=f"comma-separated among {', '.join(IMAGES)}")
    p.add_argument("--images", help="comma-separated image names (file stems) to run, in the task's order")
    p.add_argument("--cache", type=Path, help="JSON file keeping the paper reference runs between runs")
    p.add_argument("--candidates", default=",".join(CANDIDATES),
                   help=f"comma-separated methods among: {', '.join(CANDIDATES)} (empty: references only)"
                   .replace("%", "%%"))  # argparse formats help with %
    p.add_argument("--repace", action="store_true",
                   help="with --cache: measure every method's seconds per iteration again, side by side, and "
                        "recompute the cached rows' times from their iterations")
    p.add_argument("--default-call", action="store_true",
                   help="also time napari_dip.denoise(noisy) with no other argument (wall time, everything included)")
    p.add_argument("--past-best", type=float, default=1.0,
                   help="stop a reference once its PSNR is this many dB below its best (0: run it to the end)")
    args = p.parse_args(argv)
    common.setup(args, engine_threads=False)  # --threads for the methods; the default call's own default
    args.candidates = [name for name in args.candidates.split(",") if name]
    unknown = set(args.candidates) - set(CANDIDATES)
    if unknown:
        p.error(f"unknown candidate(s) {', '.join(sorted(unknown))}: choose among {', '.join(CANDIDATES)}")
    args.past_best = args.past_best or None
    if args.quick and args.iterations is None:
        args.iterations = 300
    args.extra = {"threads": args.threads, **({} if args.iterations is None else {"iterations": args.iterations})}
    body = "\n\n".join(task_table(task, args) for task in args.tasks.split(","))
    if "denoise" in args.tasks.split(",") and args.default_call:
        body += "\n\n" + default_call_table(args)
    caption = (
        "Medians over the images. Reference: the paper preset; its time is when it first reached its own best PSNR "
        f"(checked every 10 iterations); it stops once {args.past_best or 0:g} dB past its best (0: runs to the end), "
        "so what it returns at the end is then not measured ('-'). Candidates: time to the reference's best - "
        f"{MARGIN} dB and the speed-up against the reference's time (an image where a method never got there counts "
        "as never, speed-up 0, in the medians: 'inf' when most never did); 'returned' is what each method gives with no "
        "ground truth (its iteration count or automatic stop), its PSNR and fit time. Times are iterations x the "
        f"seconds per iteration (s/it) of each method, measured side by side on each image in one run (median of "
        f"short fits, the methods taking turns over {PACE_ROUNDS} rounds)."
    )
    return common.emit("Time to quality", caption, body, args)


if __name__ == "__main__":
    main()
