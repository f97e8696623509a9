"""The default against the strongest classic method of each task, in the same run.

Three parts (``--parts``):

* ``photos``: photos with white Gaussian noise of sigma 15, 25, 50 (/255,
  numpy seed 0, clipped to [0, 1]), centre crops of ``--size``. Rows: CBM3D
  and non-local means with the noise level the engine estimates (what the
  widgets' Compare button gives), the default ``denoise``, ``preset="sure"``
  (the fit the classic average starts from) and ``classic="bm3d"`` (the same
  fit averaged with BM3D, the DIP share chosen from held-out pixels). Where
  ``"auto"`` picks ``"sure"`` the default is that same fit.
* ``fluorescence``: synthetic fluorescence planes
  (:func:`napari_dip.core.extras.synthetic.fluorescence_image`, gain 1, read
  noise 2, offset 100, 16-bit counts) at 2, 10 and 50 photons. Rows: the
  generalised Anscombe transform + BM3D + the exact unbiased inverse, with the
  gain and read noise the engine estimates and with the true ones (the classic
  pipeline's best case), non-local means, the default ``denoise``,
  ``noise="poisson"`` and ``noise="poisson", classic="bm3d"`` (the fit and
  BM3D on the Anscombe transform, averaged), rounded as the default
  ``output_dtype`` returns it and unrounded (``output_dtype="float32"``, the
  same fit). The engine returns 16-bit counts for 16-bit input by default, so
  the classic pipeline is also scored rounded to integers. PSNR against the clean intensities, data range = the clean
  plane's largest count (the offset included).
* ``stops``: the default's two automatic stops on 16-bit fluorescence planes
  of 64, 128 and 256 px: the outputs' moving variance (``holdout=0``) and
  held-out pixels (what ``auto`` gives camera data below 256 x 256).
* ``stack``: a photon-limited stack (6 frames of 64 x 64 at 10 photons; 48 x 48 quick),
  every frame fitted cold or warm-started from the previous one, for the
  default, ``noise="poisson"`` and ``noise="poisson", classic="bm3d"``: each
  frame's gain over its noisy input and the time.
* ``slices``: slices of photon-limited stacks of 64 x 64 (``--stacks``: 8
  slices at 10 and 50 photons, 16 slices at 10): GAT + BM3D per slice against the default stack denoising with and
  without neighbouring slices (``context``), the median over the slices.
* ``text``: the paper's text mask over photos; biharmonic against the default
  ``inpaint``, PSNR on the painted pixels.

Every row ends with the median over the images; seconds are per image.

full: 8 photos at 256 x 256 (sigma 15, 25, 50), fluorescence planes of 256 x 256, text on 3 photos at 128 x 128
(several hours on 2 cores; run parts in parallel with ``--parts``). ``--quick``: 2 photos at 48 x 48, sigma 25,
40 iterations, one fluorescence plane of 48 x 48 at 10 photons, a 2-frame stack, one text image.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import problems  # noqa: E402

PHOTOS = {
    "F16": "dip/denoising/F16_GT.png", "kate": "dip/restoration/kate.png", "barbara": "dip/restoration/barbara.png",
    "baby": "set5/baby.png", "bird": "set5/bird.png", "butterfly": "set5/butterfly.png", "head": "set5/head.png",
    "zebra": "dip/sr/zebra_GT.png",
}
READ_NOISE, OFFSET = 2.0, 100.0


def options() -> tuple:
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--parts", default="photos,fluorescence,stops,stack,slices,text",
                   help="comma-separated: photos, fluorescence, stops, stack, slices, text")
    p.add_argument("--frames", type=int, help="frames of the stack part (default 6; quick: 2)")
    p.add_argument("--stacks", help="slices part: semicolon-separated stacks as slices,z_step,photons (default "
                                    "8,1,10;8,1,50;16,1,10; quick: 2,1,10)")
    p.add_argument("--images", help="comma-separated photo names (default: all 8; quick: F16,kate)")
    p.add_argument("--sigmas", help="comma-separated noise levels /255 (default 15,25,50; quick: 25)")
    p.add_argument("--photons", help="comma-separated peak photon counts (default 2,10,50; quick: 10)")
    p.add_argument("--size", type=int, help="side of the crops (default 256; quick: 48)")
    p.add_argument("--iterations", type=int, help="cap on the fits' iterations (default: the presets' own)")
    args = p.parse_args()
    common.setup(args)
    quick = args.quick
    args.images = (args.images or ("F16,kate" if quick else ",".join(PHOTOS))).split(",")
    args.sigmas = [float(s) for s in (args.sigmas or ("25" if quick else "15,25,50")).split(",")]
    args.photons = [float(s) for s in (args.photons or ("10" if quick else "2,10,50")).split(",")]
    args.size = args.size or (48 if quick else 256)
    args.frames = args.frames or (2 if quick else 6)
    stacks = args.stacks or ("2,1,10" if quick else "8,1,10;8,1,50;16,1,10")
    args.stacks = [(int(f), float(z), float(p)) for f, z, p in (case.split(",") for case in stacks.split(";"))]
    args.iterations = args.iterations or (40 if quick else None)
    return args


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """What ``function()`` returns, and its seconds."""
    with common.Timer() as timer:
        out = function()
    return out, timer.seconds


def fit_options(args) -> dict:
    return {} if args.iterations is None else {"iterations": args.iterations}


def section(rows: dict[str, list[tuple[float, float]]], names: list[str], extra: dict[str, list[str]]) -> str:
    """A table: one row per method (PSNR per image, median, median seconds) and descriptive rows."""
    body = []
    for method, cells in rows.items():
        scores = [c[0] for c in cells]
        body.append([method, *(common.fmt(s) for s in scores), common.fmt(float(np.median(scores))),
                     common.fmt(float(np.median([c[1] for c in cells])), 1)])
    body += [[label, *values, "", ""] for label, values in extra.items()]
    return common.table(["method", *names, "median PSNR (dB)", "s / image"], body)


def photos(args, sigma: float) -> str:
    from napari_dip import denoise
    from napari_dip.core.extras.classic import run_classic
    from napari_dip.core.tasks.prepare import prepare_denoise

    blend = "DIP sure + BM3D (classic='bm3d')"
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in (
        "noisy", "CBM3D", "non-local means", "DIP default", "DIP sure", blend)}
    extra: dict[str, list[str]] = {"default preset": [], "DIP share": [], "default - CBM3D (dB)": [],
                                   "classic='bm3d' - CBM3D (dB)": []}
    for name in args.images:
        clean = common.crop(common.load(args.data, PHOTOS[name]), args.size)
        noisy = common.add_noise(clean, sigma / 255)
        axis = -1 if noisy.ndim == 3 else None  # barbara is grey
        score = lambda image: common.psnr(np.clip(image, 0, 1), clean)  # noqa: E731
        rows["noisy"].append((score(noisy), 0.0))
        for method, label in (("bm3d", "CBM3D"), ("nl-means", "non-local means")):
            out, seconds = timed(lambda: run_classic(method, noisy, channel_axis=axis))
            rows[label].append((score(out), seconds))
        with common.Timer() as timer:
            task = prepare_denoise(noisy, channel_axis=axis, classic="bm3d", **fit_options(args))
            blended, result = task.run()
        alone = task.to_image(result.image)
        rows["DIP sure"].append((score(alone), timer.seconds - task.settings["classic_seconds"]))
        rows[blend].append((score(blended), timer.seconds))
        probe = prepare_denoise(noisy, channel_axis=axis, iterations=1)
        preset = probe.settings["preset"]
        if preset == "sure":
            rows["DIP default"].append(rows["DIP sure"][-1])
        else:
            out, seconds = timed(lambda: denoise(noisy, channel_axis=axis, **fit_options(args)))
            rows["DIP default"].append((score(out), seconds))
        extra["default preset"].append(preset)
        extra["DIP share"].append(common.fmt(task.settings["classic_share"]))
        cbm3d = rows["CBM3D"][-1][0]
        extra["default - CBM3D (dB)"].append(f"{rows['DIP default'][-1][0] - cbm3d:+.2f}")
        extra["classic='bm3d' - CBM3D (dB)"].append(f"{rows[blend][-1][0] - cbm3d:+.2f}")
        print(f"  sigma {sigma:g} {name}: done", file=sys.stderr, flush=True)
    return section(rows, args.images, extra)


def anscombe_bm3d(noisy: np.ndarray, model) -> np.ndarray:
    """The generalised Anscombe transform, BM3D at unit noise, the exact unbiased inverse (written apart from
    the engine's ``AnscombeUnits``, which the DIP rows use, so the two check each other)."""
    import bm3d

    from napari_dip.core.physics.noise import anscombe, inverse_anscombe

    chw = noisy[None].astype(np.float64)
    transformed = anscombe(chw, model)
    low, span = float(transformed.min()), float(np.ptp(transformed)) or 1.0
    denoised = bm3d.bm3d((transformed[0] - low) / span, 1.0 / span) * span + low
    return inverse_anscombe(np.asarray(denoised)[None], model)[0]


def engine_noise(noisy: np.ndarray):
    """The photon noise model the engine estimates for ``noisy`` (what ``noise="poisson"`` fits use)."""
    from napari_dip.core.physics.noise import PhotonNoise
    from napari_dip.core.tasks.prepare import prepare_denoise

    settings = prepare_denoise(noisy, noise="poisson", iterations=1).settings
    return PhotonNoise(*(np.asarray(settings[key], np.float64) for key in ("gain", "read_noise", "offset")))


def fluorescence(args) -> str:
    from napari_dip import denoise
    from napari_dip.core.extras.classic import run_classic
    from napari_dip.core.extras.synthetic import fluorescence_image
    from napari_dip.core.physics.noise import PhotonNoise
    from napari_dip.core.tasks.prepare import prepare_denoise

    engine_gat, average = "GAT + BM3D, engine's gain / read noise", "DIP noise='poisson', classic='bm3d'"
    unrounded = f"{average}, output_dtype='float32'"
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in (
        "noisy", engine_gat, f"{engine_gat}, rounded to uint16", "GAT + BM3D, true gain / read noise",
        "non-local means", "DIP default", "DIP noise='poisson'", average, unrounded)}
    extra: dict[str, list[str]] = {"DIP share": [], "average - GAT + BM3D rounded (dB)": [],
                                   "float32 average - GAT + BM3D (dB)": []}
    names = [f"{p:g} photons" for p in args.photons]
    true_noise = PhotonNoise(np.array([1.0]), np.array([READ_NOISE]), np.array([OFFSET]))
    for photons in args.photons:
        noisy, clean = fluorescence_image((args.size, args.size), photons=photons, read_noise=READ_NOISE,
                                          offset=OFFSET, seed=0)
        score = lambda image: common.psnr(image, clean, float(clean.max()))  # noqa: E731
        rows["noisy"].append((score(noisy), 0.0))

        def averaged() -> np.ndarray:  # unrounded; rounded it is exactly what the default output_dtype returns
            task = prepare_denoise(noisy, noise="poisson", classic="bm3d", output_dtype="float32",
                                   **fit_options(args))
            out, _ = task.run()
            extra["DIP share"].append(common.fmt(task.settings["classic_share"]))
            return out.astype(np.float64)

        methods = {
            engine_gat: lambda: anscombe_bm3d(noisy, engine_noise(noisy)),
            "GAT + BM3D, true gain / read noise": lambda: anscombe_bm3d(noisy, true_noise),
            "non-local means": lambda: run_classic("nl-means", noisy.astype(np.float32)),
            "DIP default": lambda: denoise(noisy, **fit_options(args)).astype(np.float64),
            "DIP noise='poisson'": lambda: denoise(noisy, noise="poisson", **fit_options(args)).astype(np.float64),
            unrounded: averaged,
        }
        for label, method in methods.items():
            out, seconds = timed(method)
            rows[label].append((score(out), seconds))
            if label == engine_gat:  # what a 16-bit result of the same pipeline scores (the DIP defaults are 16-bit)
                rows[f"{label}, rounded to uint16"].append((score(np.rint(out)), seconds))
            if label == unrounded:
                rows[average].append((score(np.rint(out)), seconds))
        gap = rows[average][-1][0] - rows[f"{engine_gat}, rounded to uint16"][-1][0]
        extra["average - GAT + BM3D rounded (dB)"].append(f"{gap:+.2f}")
        extra["float32 average - GAT + BM3D (dB)"].append(f"{rows[unrounded][-1][0] - rows[engine_gat][-1][0]:+.2f}")
        print(f"  {photons:g} photons: done", file=sys.stderr, flush=True)
    return section(rows, names, extra)


def stops(args) -> str:
    """The fast preset's two automatic stops on 16-bit fluorescence planes: the outputs' moving variance
    (holdout=0) and 5 % held-out pixels (what "auto" gives planes smaller than 256 x 256)."""
    from napari_dip import denoise
    from napari_dip.core.extras.synthetic import fluorescence_image

    cases = [(64, 10), (64, 50), (128, 10), (128, 50), (256, 10)] if not args.quick else [(48, 10)]
    variants = {"outputs' variance (holdout=0)": {"holdout": 0.0},
                "held-out pixels (holdout=0.05)": {"holdout": 0.05}}
    rows: dict[str, list[tuple[float, float]]] = {"noisy": []}
    rows.update({name: [] for name in variants})
    extra: dict[str, list[str]] = {f"stop iteration, {name}": [] for name in variants}
    for size, photons in cases:
        noisy, clean = fluorescence_image((size, size), photons=photons, read_noise=READ_NOISE, offset=OFFSET,
                                          seed=0)
        score = lambda image: common.psnr(image, clean, float(clean.max()))  # noqa: E731
        rows["noisy"].append((score(noisy), 0.0))
        for name, options in variants.items():
            (out, history), seconds = timed(lambda: denoise(noisy, return_history=True, **options,
                                                            **fit_options(args)))
            rows[name].append((score(out.astype(np.float64)), seconds))
            extra[f"stop iteration, {name}"].append(str(history.stop_iteration))
        print(f"  stops {size} px, {photons:g} photons: done", file=sys.stderr, flush=True)
    return section(rows, [f"{size} px, {photons:g} photons" for size, photons in cases], extra)


def stack_side(args) -> int:
    """The side of the stack's frames: 64, 48 quick (smaller frames leave too few pixels to estimate the gain)."""
    return 48 if args.quick else 64


def stack(args) -> str:
    """Cold (every frame from scratch) against warm-started frames of a photon-limited stack, per frame: the gain
    over the noisy frame, for the default and for noise='poisson', classic='bm3d'."""
    from napari_dip import denoise
    from napari_dip.core.extras.synthetic import fluorescence_volume

    size = stack_side(args)
    noisy, clean = fluorescence_volume((args.frames, size, size), photons=10, read_noise=READ_NOISE, offset=OFFSET,
                                       seed=0)
    peak = float(clean.max())
    base = [common.psnr(noisy[k], clean[k], peak) for k in range(args.frames)]
    methods = {"default": {}, "noise='poisson'": {"noise": "poisson"},
               "noise='poisson', classic='bm3d'": {"noise": "poisson", "classic": "bm3d"}}
    rows: dict[str, list[tuple[float, float]]] = {}
    extra: dict[str, list[str]] = {}
    for name, options in methods.items():
        gains = {}
        for start, label in ((False, "cold"), (True, "warm")):
            out, seconds = timed(lambda: denoise(noisy, stack_axis=0, warm_start=start, **options,
                                                 **fit_options(args)))
            gains[label] = [common.psnr(out[k].astype(np.float64), clean[k], peak) - base[k]
                            for k in range(args.frames)]
            rows[f"{name}, {label}: gain over the noisy frame"] = [(g, seconds / args.frames) for g in gains[label]]
        extra[f"{name}: warm - cold gain (dB)"] = [f"{w - c:+.2f}" for w, c in zip(gains["warm"], gains["cold"],
                                                                                   strict=True)]
        cold_s = rows[f"{name}, cold: gain over the noisy frame"][0][1]
        warm_s = rows[f"{name}, warm: gain over the noisy frame"][0][1]
        extra[f"{name}: warm / cold time"] = [f"{warm_s / cold_s:.2f}"] + [""] * (args.frames - 1)
        print(f"  stack {name}: done", file=sys.stderr, flush=True)
    return section(rows, [f"frame {k}" for k in range(args.frames)], extra)


def stack_noise(noisy: np.ndarray):
    """The photon noise model the engine uses for the slices of a stack denoised with neighbouring slices: one
    estimate from (up to 16 of) its slices."""
    from napari_dip.core.physics.noise import PhotonNoise
    from napari_dip.core.tasks.windows import stack_camera

    given = stack_camera(noisy.__getitem__, len(noisy), None, {"noise": "poisson"})
    return PhotonNoise(*(np.asarray(given[key], np.float64) for key in ("gain", "read_noise", "offset")))


def stack_name(frames: int, z_step: float, photons: float) -> str:
    """A column of the slices table: the stack's slices, its Z voxel depth (in pixels, when not 1), its photons."""
    depth = f", Z {z_step:g} px" if z_step != 1 else ""
    return f"{frames} slices{depth}, {photons:g} photons"


def slices(args) -> str:
    """Slices of photon-limited stacks, each denoised alone (context=0) or with its neighbours (the default
    context), against GAT + BM3D per slice; one cell = the median over the stack's slices."""
    from napari_dip import denoise
    from napari_dip.core.extras.synthetic import fluorescence_volume
    from napari_dip.core.physics.noise import PhotonNoise
    from napari_dip.core.tasks.windows import AUTO_CONTEXT

    size = stack_side(args)
    bm3d_window = "GAT + BM3D per slice, engine's gain / read noise"
    poisson, auto = "DIP noise='poisson'", f"(context {AUTO_CONTEXT})"
    unrounded = f"{poisson}, output_dtype='float32'"
    dips = {
        "DIP default, context=0": {"context": 0},
        f"DIP default {auto}": {},
        f"{poisson}, context=0": {"noise": "poisson", "context": 0},
        f"{poisson} {auto}": {"noise": "poisson"},
        **{f"{unrounded}, context={k}": {"noise": "poisson", "output_dtype": "float32", "context": k}
           for k in range(1, AUTO_CONTEXT)},
        f"{unrounded} {auto}": {"noise": "poisson", "output_dtype": "float32"},
    }
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in (
        "noisy", bm3d_window, f"{bm3d_window}, rounded to uint16", "GAT + BM3D per slice, true gain / read noise",
        *dips)}
    gaps = {f"default {auto} - GAT + BM3D rounded (dB)": (f"DIP default {auto}", f"{bm3d_window}, rounded to uint16"),
            f"noise='poisson' {auto} - GAT + BM3D rounded (dB)": (f"{poisson} {auto}",
                                                                   f"{bm3d_window}, rounded to uint16"),
            f"float32 {auto} - GAT + BM3D (dB)": (f"{unrounded} {auto}", bm3d_window)}
    extra: dict[str, list[str]] = {label: [] for label in gaps}
    true_noise = PhotonNoise(np.array([1.0]), np.array([READ_NOISE]), np.array([OFFSET]))
    for frames, z_step, photons in args.stacks:
        noisy, clean = fluorescence_volume((frames, size, size), photons=photons, read_noise=READ_NOISE,
                                           offset=OFFSET, z_step=z_step, seed=0)
        peak = float(clean.max())

        def median(stack: np.ndarray) -> float:
            return float(np.median([common.psnr(stack[k].astype(np.float64), clean[k], peak)
                                    for k in range(frames)]))

        rows["noisy"].append((median(noisy), 0.0))
        model = stack_noise(noisy)
        engine, seconds = timed(lambda: np.stack([anscombe_bm3d(noisy[k], model) for k in range(frames)]))
        rows[bm3d_window].append((median(engine), seconds / frames))
        rows[f"{bm3d_window}, rounded to uint16"].append((median(np.rint(engine)), seconds / frames))
        true, seconds = timed(lambda: np.stack([anscombe_bm3d(noisy[k], true_noise) for k in range(frames)]))
        rows["GAT + BM3D per slice, true gain / read noise"].append((median(true), seconds / frames))
        for name, extra_options in dips.items():
            out, seconds = timed(lambda: denoise(noisy, stack_axis=0, **extra_options, **fit_options(args)))
            rows[name].append((median(out), seconds / frames))
        for label, (dip, classic) in gaps.items():
            extra[label].append(f"{rows[dip][-1][0] - rows[classic][-1][0]:+.2f}")
        print(f"  slices {stack_name(frames, z_step, photons)}: done", file=sys.stderr, flush=True)
    return section(rows, [stack_name(*case) for case in args.stacks], extra)


def text(args) -> str:
    from napari_dip import inpaint
    from napari_dip.core.extras.classic import run_classic

    size = min(args.size, 128)
    names = args.images[:3]
    rows: dict[str, list[tuple[float, float]]] = {"biharmonic": [], "DIP default": []}
    for name in names:
        clean = common.crop(common.load(args.data, PHOTOS[name]), size)
        problem = problems.make("text", clean, data=args.data)
        damaged, missing = problem.inputs
        axis = -1 if damaged.ndim == 3 else None
        for label, method in (("biharmonic", lambda: run_classic("biharmonic", damaged, missing, channel_axis=axis)),
                              ("DIP default", lambda: inpaint(damaged, missing, channel_axis=axis, kind="text",
                                                              **fit_options(args)))):
            out, seconds = timed(method)
            painted = np.broadcast_to(missing[..., None] if clean.ndim == 3 else missing, clean.shape)
            rows[label].append((common.psnr(np.clip(out, 0, 1)[painted], clean[painted]), seconds))
    return section(rows, names, {})


def main() -> None:
    args = options()
    parts = args.parts.split(",")
    fits = "the presets' own iterations and stops" if args.iterations is None else f"at most {args.iterations} iterations"
    out, args.out = args.out, None  # every section goes to one file
    texts = []
    if "photos" in parts:
        for sigma in args.sigmas:
            texts.append(common.emit(f"Denoising photos, sigma {sigma:g}", (
                f"PSNR (dB) on {args.size} x {args.size} centre crops with sigma = {sigma:g}/255 Gaussian noise "
                f"(seed 0, clipped); DIP fits: {fits}, seed 0, one thread. 'DIP sure' and 'classic=bm3d' are "
                "one fit (its seconds without and with the two BM3D calls); where 'auto' picks 'sure' the default "
                "is that fit too."), photos(args, sigma), args))
    if "fluorescence" in parts:
        texts.append(common.emit(f"Photon-limited fluorescence planes, {args.size} x {args.size}", (
            f"PSNR (dB) against the clean intensities (data range = the clean plane's largest count, the offset "
            f"included: compare rows, not columns) of {args.size} x {args.size} synthetic "
            f"fluorescence planes (gain 1, read noise {READ_NOISE:g}, offset {OFFSET:g}, uint16, seed 0); DIP "
            f"fits: {fits}; GAT = generalised Anscombe transform with the exact unbiased inverse."),
            fluorescence(args), args))
    if "stops" in parts:
        texts.append(common.emit("The fast preset's automatic stop on camera data", (
            f"PSNR (dB) as in the fluorescence table, of synthetic 16-bit fluorescence planes (gain 1, read noise "
            f"{READ_NOISE:g}, offset {OFFSET:g}, seed 0) denoised by the default (auto: fast on 16-bit data) with "
            f"each automatic stop (auto holds pixels out below 256 x 256); DIP fits: {fits}."), stops(args), args))
    if "stack" in parts:
        texts.append(common.emit("A photon-limited stack: warm-started frames", (
            f"Gain in PSNR (dB) over each noisy frame of a {args.frames} x {stack_side(args)} x "
            f"{stack_side(args)} synthetic fluorescence stack (10 photons, read noise {READ_NOISE:g}, offset "
            f"{OFFSET:g}, uint16, seed 0; data range = the clean stack's largest count), every frame fitted from "
            "scratch (cold, warm_start=False) or warm-started from the previous one (stack_axis=0, the default); "
            f"seconds per frame = the whole call's / frames; DIP fits: {fits}."), stack(args), args))
    if "slices" in parts:
        texts.append(common.emit(f"Slices of photon-limited stacks, {stack_side(args)} x {stack_side(args)}", (
            f"Median over the slices of synthetic fluorescence stacks of {stack_side(args)} x {stack_side(args)} "
            f"slices (read noise {READ_NOISE:g}, offset {OFFSET:g}, uint16, seed 0; Z voxels 1 pixel deep unless "
            "said) of the "
            "PSNR (dB) against the clean intensities (data range = the clean stack's largest count); the stack "
            "denoised with stack_axis=0 (warm-started, the default), each slice fitted alone (context=0) or with "
            "its neighbours on each side; GAT + BM3D per slice with the gain and read noise the engine uses for "
            f"the stack (one estimate from its slices) and with the true ones; DIP fits: {fits}."),
            slices(args), args))
    if "text" in parts:
        texts.append(common.emit("Text inpainting", (
            f"PSNR (dB) on the painted pixels of {min(args.size, 128)} x {min(args.size, 128)} crops under the "
            f"paper's text mask; DIP fits: {fits}."), text(args), args))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(texts))


if __name__ == "__main__":
    main()
