"""The ``napari-dip`` command: Deep Image Prior restoration of image files, no napari needed.

Examples
--------
::

    napari-dip denoise noisy.png -o clean.png --preset fast
    napari-dip sr small.tif --factor 4 -o results/            # 16-bit TIFF in, 16-bit TIFF out
    napari-dip inpaint photo.png --mask text.png --kind text -o out/
    napari-dip denoise "frames/*.tif" -o out/ --save-every 200   # a batch, with snapshots
    napari-dip denoise cells.tif --config settings.json --iterations 500
    napari-dip denoise zstack.tif --stack 3d -o out/            # one 3D fit of the whole Z-stack
    napari-dip denoise "frames/*.tif" -o out/ --workers 2     # on Dask: 2 worker processes

Outputs are named after their inputs (``cells_denoised.tif``) and never
overwrite a file without ``--overwrite``: a rerun skips the inputs already
done. File handling lives in :mod:`napari_dip.batch.files`, the fits of a batch in
:mod:`napari_dip.batch.serial` (serial) and :mod:`napari_dip.batch.cluster` (Dask);
this module parses arguments and plans the outputs.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from napari_dip import __version__
from napari_dip.batch.serial import read_extra, run_serial
from napari_dip.core.inputs.volumes import VOLUME_TASKS
from napari_dip.batch.files import InputError, check_outputs, companion_path, expand_inputs, output_path, prepare_folder, read_settings

#: Command-line task -> (engine task, output name tag, help).
TASKS = {
    "denoise": ("denoise", "denoised", "blind denoising (EMA of the outputs)"),
    "jpeg": ("jpeg", "dejpeg", "remove JPEG artefacts / blind restoration"),
    "sr": ("super_resolution", "sr{factor}", "super-resolution: the output is --factor times larger per side"),
    "inpaint": ("inpaint", "inpainted", "fill the pixels marked in --mask"),
    "enhance": ("enhance", "enhanced", "detail enhancement (also writes the coarse layer as NAME_coarse)"),
    "flash": ("flash", "restored", "restore a no-flash image (INPUT) guided by its --flash image"),
}
#: How the --stack option restores the slices of a TIFF stack.
STACK_MODES = ("slices", "warm", "3d")
#: Flags copied into the engine's keywords when given (they override --config).
FLAGS = ("preset", "iterations", "lr", "seed", "device", "precision", "threads", "tv_weight", "holdout")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one sub-command per task, shared options on each."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or glob patterns")
    common.add_argument("-o", "--output", help="output file (one input) or folder (default: next to inputs)")
    common.add_argument("--format", choices=("png", "jpg", "tif"), help="output format (default: the input's; "
                        "PNG for JPEG inputs)")
    common.add_argument("--preset", help="'auto' (default: 'sure' to denoise an unclipped 8-bit 2D image with "
                        "Gaussian noise, else 'fast'), 'fast' (lighter network; denoise and jpeg stop by themselves), "
                        "'paper' (the paper's settings) or a preset name")
    common.add_argument("--iterations", type=int, help="number of Adam steps (default: the preset's)")
    common.add_argument("--lr", type=float, help="learning rate (default: the preset's)")
    common.add_argument("--seed", type=int, help="random seed (default 0)")
    common.add_argument("--device", help="auto (default), cpu, cuda or mps")
    common.add_argument("--precision", choices=("auto", "float32", "bfloat16", "float16"),
                        help="autocast precision; auto (default): bfloat16 where the device runs it natively, "
                             "else float32")
    common.add_argument("--threads", type=_thread_count, help="CPU threads per fit, or 'adaptive' "
                        "(the default; OMP_NUM_THREADS when set): whichever of all cores and all but one is faster "
                        "as the fit runs. A number repeats a seed's result bit for bit")
    common.add_argument("--tv-weight", type=float, metavar="W",
                        help="add W x the total variation of the output to the loss (DIP-TV; default 0)")
    common.add_argument("--holdout", type=float, metavar="F",
                        help="leave this share of the pixels out of the fit; the automatic stop then ends the fit "
                             "where their error is lowest (noise independent from pixel to pixel; default 0)")
    common.add_argument("--auto-stop", action=argparse.BooleanOptionalAction,
                        help="stop when the outputs settle (no ground truth); default: on for denoise and jpeg with "
                             "the fast preset; --no-auto-stop runs all --iterations")
    common.add_argument("--tile", help="auto (default: overlapping tiles when the image is too large for the device), "
                        "none (refuse such images) or a tile side in pixels")
    common.add_argument("--save-every", type=int, metavar="N", help="also write a snapshot every N iterations")
    common.add_argument("--stack", choices=STACK_MODES, default="warm",
                        help="TIFF stacks: each slice from scratch (slices), each slice starting from the previous "
                             "fit (warm, the default) or the last three axes as one volume (3d: denoise, jpeg, "
                             "inpaint)")
    common.add_argument("--spacing", metavar="Z,Y,X", help="voxel size for --stack 3d (default 1,1,1)")
    common.add_argument("--warm-iterations", type=int, metavar="N",
                        help="iterations of each warm-started slice (default: half of --iterations)")
    common.add_argument("--config", type=Path, metavar="FILE.json", help="settings saved by the napari widgets")
    common.add_argument("--overwrite", action="store_true", help="replace existing outputs (else: skip their inputs)")
    common.add_argument("--workers", type=int, metavar="N", help="restore on Dask: a local cluster of N processes")
    common.add_argument("--scheduler", metavar="ADDRESS", help="restore on the running Dask cluster at ADDRESS")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bar or messages")
    common.add_argument("--debug", action="store_true", help="show tracebacks")

    parser = argparse.ArgumentParser(prog="napari-dip", description="Deep Image Prior restoration of image files.")
    parser.add_argument("--version", action="version", version=f"napari-dip {__version__}")
    sub = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    for name, (_, _, about) in TASKS.items():
        task = sub.add_parser(name, parents=[common], help=about, description=about)
        if name == "denoise":
            task.add_argument("--runs", type=int, default=1, help="average this many fits (seeds seed, seed+1, ...)")
            task.add_argument("--noise", choices=("gaussian", "poisson"),
                              help="gaussian (default) or poisson: photon-limited data (microscopy, low light)")
            task.add_argument("--gain", type=float, help="poisson: intensity per photon (default: estimated)")
            task.add_argument("--read-noise", type=float, help="poisson: read-noise std (default: estimated)")
            task.add_argument("--offset", type=float, help="poisson: intensity of zero photons (default 0)")
        if name == "sr":
            task.add_argument("--factor", type=int, help="magnification, 2 or more (default 4)")
        if name == "inpaint":
            task.add_argument("--mask", type=Path, required=True, help="mask image: non-zero = missing pixel")
            task.add_argument("--known-mask", action="store_true", help="the mask's non-zero pixels are the KNOWN ones")
            task.add_argument("--kind", choices=("text", "hole", "sparse"), help="text (default), hole or sparse")
        if name == "flash":
            task.add_argument("--flash", type=Path, required=True, help="the flash image of the same scene")
    return parser


#: Keys the napari widgets store in a layer's metadata besides the engine's settings (informational).
LAYER_KEYS = ("source", "output", "reference", "stopped_at", "stop_reason", "slice_index", "slices", "slices_done",
              "slices_total")


def load_config(path: Path, task: str) -> dict:
    """Settings from a JSON file (a TaskRun.settings dict, or layer metadata holding one under "napari_dip").

    Unknown keys are refused by name (a typo would otherwise be ignored);
    informational entries (task, network, ...) are dropped; the values are
    checked like the flags, in :func:`validate`.
    """
    from napari_dip.core.tasks.prepare import RECORDED_KEYS, settings_to_kwargs
    from napari_dip.core.validation import device_name as check_device_name

    settings = read_settings(path)
    unknown = sorted(set(settings) - set(settings_to_kwargs(settings)) - set(RECORDED_KEYS) - set(LAYER_KEYS))
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r}: use the names of napari_dip.FitConfig's fields, "
                         "preset, device, factor and kind (or a file saved by the napari widgets).")
    saved = str(settings.get("task", TASKS[task][0]))
    if not saved.startswith(TASKS[task][0]):
        warnings.warn(f"{path} holds settings of the {saved!r} task; using them for {task!r}.", stacklevel=2)
    options = settings_to_kwargs(settings)
    try:  # the file on its own, even where flags override it (its device may be another machine's: checked later)
        check_device_name(options.get("device", "auto"))
        validate(task, {key: value for key, value in options.items() if key != "device"})
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from exc
    return options


def _thread_count(text: str) -> int | str:
    """--threads: a number, or "adaptive"."""
    if text == "adaptive":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of 1 or more, or 'adaptive'") from None


def _positive_flag(flag: str, value: int | str | None) -> None:
    """Refuse a zero or negative count given on the command line, naming the flag."""
    if isinstance(value, int) and value < 1:
        raise InputError(f"{flag} {value}: give a whole number of 1 or more.")


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords for the engine: --config first, explicit flags over it; every value checked before any work."""
    for flag, value in (("--save-every", args.save_every), ("--threads", args.threads),
                        ("--runs", getattr(args, "runs", None))):
        _positive_flag(flag, value)
    if args.threads == "adaptive" and (getattr(args, "workers", None) or getattr(args, "scheduler", None)):
        raise InputError("--threads adaptive chooses among all of this machine's cores for one fit at a time: with "
                         "--workers or --scheduler give a number (or leave --threads out to share the cores).")
    options = load_config(args.config, args.task) if args.config else {}
    if args.device is None and isinstance(options.get("device"), str):  # the settings' device, if it is here
        from napari_dip.core.runtime.devices import resolve_device

        try:
            resolve_device(options["device"])
        except ValueError:
            warnings.warn(f"{args.config} was made on device {options.pop('device')!r}, not available here: "
                          "using --device auto.", stacklevel=2)
    options.update({flag: getattr(args, flag) for flag in FLAGS if getattr(args, flag) is not None})
    if args.auto_stop is not None:
        options["auto_stop"] = args.auto_stop
    if args.tile is not None:
        tile = args.tile.lower()
        if tile not in ("auto", "none") and not tile.isdigit():
            raise InputError(f"--tile {args.tile}: use auto, none or a tile side in pixels (e.g. 512).")
        options["tile"] = None if tile == "none" else tile if tile == "auto" else int(tile)
    if args.save_every is not None:
        options["preview_every"] = args.save_every
    factor, kind = options.pop("factor", None), options.pop("kind", None)
    if args.task == "sr":
        options["factor"] = next((f for f in (args.factor, factor) if f is not None), 4)
    if args.task == "inpaint":
        options["kind"] = next((k for k in (args.kind, kind) if k is not None), "text")
    for key in ("noise", "gain", "read_noise", "offset"):
        value = getattr(args, key, None)
        if args.task != "denoise":
            options.pop(key, None)  # photon noise settings of a denoising --config
        elif value is not None:
            options[key] = value
    if args.stack == "3d" and TASKS[args.task][0] not in VOLUME_TASKS:
        raise InputError(f"--stack 3d: {args.task} restores 2D images only; use --stack warm or --stack slices.")
    if args.spacing is not None:
        try:
            options["spacing"] = tuple(float(v) for v in args.spacing.split(","))
        except ValueError:
            raise InputError(f"--spacing {args.spacing}: give three numbers, e.g. --spacing 2,0.5,0.5.") from None
        if args.stack != "3d":
            raise InputError("--spacing is the voxel size of a 3D fit: add --stack 3d.")
    _positive_flag("--warm-iterations", args.warm_iterations)
    validate(args.task, options)
    if "seed" in options:  # a settings file may hold "seed": null, i.e. a fresh seed: draw it once, for every input
        from napari_dip.core.validation import seed

        options["seed"] = seed(options["seed"])
    return options


def validate(task: str, options: dict) -> None:
    """Check the device, preset and fit settings once, before any file is read (ValueError naming the value)."""
    from napari_dip.core import validation as check
    from napari_dip.core.runtime.devices import resolve_device
    from napari_dip.core.fitting.config import FitConfig
    from napari_dip.core.tasks.presets import DEFAULT_PRESET, task_preset

    resolve_device(check.device_name(options.get("device", "auto")))
    task_preset(TASKS[task][0], factor=options.get("factor", 4), kind=options.get("kind"),
                preset=options.get("preset", DEFAULT_PRESET))
    FitConfig(**{k: v for k, v in options.items()
                 if k in FitConfig.__dataclass_fields__ and not (k == "stop_loss" and v == "auto")})


def plan_outputs(args: argparse.Namespace, sources: list[Path], options: dict) -> list[list[Path]]:
    """The output files of every input (main output first); their folders are made and checked before any work."""
    tag = TASKS[args.task][1].format(factor=options.get("factor"))
    plans = []
    for source in sources:
        main_out = output_path(source, args.output, tag, args.format, len(sources) == 1)
        plans.append([main_out] + ([companion_path(main_out, "coarse")] if args.task == "enhance" else []))
    check_outputs([p for plan in plans for p in plan])
    for folder in dict.fromkeys(p.parent for plan in plans for p in plan):
        prepare_folder(folder)
    return plans


def pending_inputs(args: argparse.Namespace, sources: list[Path],
                   plans: list[list[Path]]) -> list[tuple[Path, list[Path]]]:
    """The inputs still to restore: those whose main output exists are skipped (and said so) unless --overwrite."""
    jobs = []
    for source, plan in zip(sources, plans):
        if plan[0].exists() and not args.overwrite:
            if not args.quiet:
                print(f"napari-dip: skipped {source}: {plan[0]} exists (pass --overwrite to replace it)")
            continue
        jobs.append((source, plan))
    return jobs


def scale_out(args: argparse.Namespace) -> bool:
    """Whether to run on Dask (--workers / --scheduler); checks the flags and that Dask is installed."""
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}: use 1 or more worker processes.")
    if args.workers and args.scheduler:
        raise InputError("pass --workers (start a local cluster) or --scheduler (join a running one), not both.")
    if not (args.workers or args.scheduler):
        return False
    from napari_dip.batch.cluster import require_dask

    try:
        require_dask()
    except ImportError as exc:
        raise InputError(f"--workers / --scheduler need Dask: {exc}") from exc
    return True


def run(args: argparse.Namespace) -> int:
    """Run a parsed command line; return the exit code."""
    options = engine_options(args)
    sources = expand_inputs(args.inputs)
    if args.task == "flash" and len(sources) > 1:
        raise InputError(f"flash restores one no-flash image with its --flash image, got {len(sources)} inputs.")
    distributed = scale_out(args)
    plans = plan_outputs(args, sources, options)
    jobs = pending_inputs(args, sources, plans)
    extra = read_extra(args)
    if args.task == "inpaint" and not args.known_mask and options["kind"] != "sparse" and extra.data.mean() > 0.5:
        warnings.warn(f"{extra.path} marks {100 * extra.data.mean():.0f} % of the pixels as missing; if its white "
                      "pixels are the known ones (as in the DIP repository's masks), add --known-mask.", stacklevel=2)
    if distributed:
        from napari_dip.batch.cluster import run_batch

        failed = run_batch(args, jobs, extra, options) if jobs else 0
    else:
        failed = run_serial(args, jobs, extra, options, single=len(sources) == 1)
    if failed and len(jobs) > 1:
        print(f"napari-dip: error: {failed} of {len(jobs)} inputs failed (see above).", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``napari-dip`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = lambda message, *_: print(f"napari-dip: warning: {message}", file=sys.stderr)
            return run(args)
    except KeyboardInterrupt:
        print("napari-dip: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        known = isinstance(exc, (InputError, ValueError))
        hint = "" if known else f" ({type(exc).__name__}; rerun with --debug for the traceback)"
        print(f"napari-dip: error: {exc}{hint}", file=sys.stderr)
        return 1

