"""The ``napari-dip`` command: Deep Image Prior restoration of image files, no napari needed.

Examples
--------
::

    napari-dip denoise noisy.png -o clean.png --preset fast
    napari-dip sr small.tif --factor 4 -o results/            # 16-bit TIFF in, 16-bit TIFF out
    napari-dip inpaint photo.png --mask text.png --kind text -o out/
    napari-dip denoise "frames/*.tif" -o out/ --save-every 200   # a batch, with snapshots
    napari-dip denoise cells.tif --config settings.json --iterations 500

Outputs are named after their inputs (``cells_denoised.tif``) and never
overwrite a file without ``--overwrite``. File handling lives in
:mod:`napari_dip.io`; this module parses arguments and drives the fits.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .io import ImageFile, InputError, check_outputs, check_writable, companion_path, companion_slice, expand_inputs
from .io import output_path, read_image, read_mask, read_settings, write_image

#: Command-line task -> (engine task, output name tag, help).
TASKS = {
    "denoise": ("denoise", "denoised", "blind denoising (EMA of the outputs)"),
    "jpeg": ("jpeg", "dejpeg", "remove JPEG artefacts / blind restoration"),
    "sr": ("super_resolution", "sr{factor}", "super-resolution: the output is --factor times larger per side"),
    "inpaint": ("inpaint", "inpainted", "fill the pixels marked in --mask"),
    "enhance": ("enhance", "enhanced", "detail enhancement (also writes the coarse layer as NAME_coarse)"),
    "flash": ("flash", "restored", "restore a no-flash image (INPUT) guided by its --flash image"),
}
#: Flags copied into the engine's keywords when given (they override --config).
FLAGS = ("preset", "iterations", "lr", "seed", "device", "precision", "threads")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one sub-command per task, shared options on each."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or glob patterns")
    common.add_argument("-o", "--output", type=Path, help="output file (one input) or folder (default: next to inputs)")
    common.add_argument("--format", choices=("png", "jpg", "tif"), help="output format (default: the input's; "
                        "PNG for JPEG inputs)")
    common.add_argument("--preset", help="'paper' (default) or 'fast' (lighter network for CPUs), or a preset name")
    common.add_argument("--iterations", type=int, help="number of Adam steps (default: the preset's)")
    common.add_argument("--lr", type=float, help="learning rate (default: the preset's)")
    common.add_argument("--seed", type=int, help="random seed (default 0)")
    common.add_argument("--device", help="auto (default), cpu, cuda or mps")
    common.add_argument("--precision", choices=("float32", "bfloat16", "float16"), help="autocast precision")
    common.add_argument("--threads", type=int, help="CPU threads per fit (default: all cores but one)")
    common.add_argument("--auto-stop", action="store_true", help="stop when the outputs settle (no ground truth)")
    common.add_argument("--tile", help="auto (default: overlapping tiles when the image is too large for the device), "
                        "none (refuse such images) or a tile side in pixels")
    common.add_argument("--save-every", type=int, metavar="N", help="also write a snapshot every N iterations")
    common.add_argument("--config", type=Path, metavar="FILE.json", help="settings saved by the napari widgets")
    common.add_argument("--overwrite", action="store_true", help="replace existing output files")
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


def load_config(path: Path, task: str) -> dict:
    """Settings from a JSON file (a TaskRun.settings dict, or layer metadata holding one under "napari_dip")."""
    from .core.tasks import settings_to_kwargs

    settings = read_settings(path)
    saved = str(settings.get("task", TASKS[task][0]))
    if not saved.startswith(TASKS[task][0]):
        warnings.warn(f"{path} holds settings of the {saved!r} task; using them for {task!r}.", stacklevel=2)
    return settings_to_kwargs(settings)


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords for the engine: --config first, explicit flags over it."""
    options = load_config(args.config, args.task) if args.config else {}
    if args.device is None and "device" in options:  # the device the settings were made on: use it if it is here
        from .core.devices import resolve_device

        try:
            resolve_device(options["device"])
        except ValueError:
            warnings.warn(f"{args.config} was made on device {options.pop('device')!r}, not available here: "
                          "using --device auto.", stacklevel=2)
    options.update({flag: getattr(args, flag) for flag in FLAGS if getattr(args, flag) is not None})
    if args.auto_stop:
        options["auto_stop"] = True
    if args.tile is not None:
        tile = args.tile.lower()
        if tile not in ("auto", "none") and not tile.isdigit():
            raise InputError(f"--tile {args.tile}: use auto, none or a tile side in pixels (e.g. 512).")
        options["tile"] = None if tile == "none" else tile if tile == "auto" else int(tile)
    if args.save_every is not None:
        if args.save_every < 1:
            raise InputError(f"--save-every {args.save_every}: give a number of iterations of 1 or more.")
        options["preview_every"] = args.save_every
    factor, kind = options.pop("factor", None), options.pop("kind", None)
    if args.task == "sr":
        options["factor"] = args.factor or factor or 4
    if args.task == "inpaint":
        options["kind"] = args.kind or kind or "text"
    for key in ("noise", "gain", "read_noise", "offset"):
        value = getattr(args, key, None)
        if args.task != "denoise":
            options.pop(key, None)  # photon noise settings of a denoising --config
        elif value is not None:
            options[key] = value
    if getattr(args, "runs", 1) < 1:
        raise InputError(f"--runs {args.runs}: use at least one run.")
    validate(args.task, options)
    return options


def validate(task: str, options: dict) -> None:
    """Check the device, preset and fit settings once, before any file is read (ValueError if wrong)."""
    from .core.devices import resolve_device
    from .core.fit import FitConfig
    from .core.presets import resolve_preset
    from .core.tasks import INPAINT_KINDS

    resolve_device(options.get("device", "auto"))
    if task == "inpaint" and options["kind"] not in INPAINT_KINDS:
        raise InputError(f"kind {options['kind']!r} (from --config): choose one of {', '.join(INPAINT_KINDS)}.")
    engine_task = INPAINT_KINDS[options["kind"]] if task == "inpaint" else TASKS[task][0]
    resolve_preset(engine_task, options.get("preset", "paper"))
    FitConfig(**{k: v for k, v in options.items() if k in FitConfig.__dataclass_fields__})


class Progress:
    """Progress bar (with time left) and snapshot writer for one fit."""

    def __init__(self, task: Any, label: str, quiet: bool, snapshot: Any = None):
        from tqdm.auto import tqdm

        self.task, self.snapshot = task, snapshot
        total = task.fit.config.iterations
        self.bar = tqdm(total=total, desc=label, unit="it", disable=quiet, leave=False, dynamic_ncols=True)

    def __call__(self, record: Any) -> None:
        self.bar.update(record.iteration - self.bar.n)
        if record.loss is not None:
            self.bar.set_postfix(loss=f"{record.loss:.2e}", refresh=False)
        if self.snapshot is not None and record.image is not None and record.iteration % self.snapshot[0] == 0:
            chw = record.ema_image if self.task.use_ema else record.image
            image = self.task.finish(chw)
            write_image(self.snapshot[1](record.iteration), image[2] if isinstance(image, tuple) else image,
                        self.task.info.channel_axis)


def restore_slice(args: argparse.Namespace, image: np.ndarray, axis: int | None, extra: np.ndarray | None,
                  options: dict, label: str, snapshot: Any) -> tuple[list[np.ndarray], Any]:
    """Restore one 2D image; return its outputs (main first) and the last fit's history."""
    from .core.tasks import TASKS as ENGINE
    from .core.tasks import average_runs

    prepare = ENGINE[TASKS[args.task][0]]
    runs = getattr(args, "runs", 1)
    options = dict(options)
    seed = options.pop("seed", 0)
    bars: list[Progress] = []

    def make_run(k: int) -> Any:
        inputs = (image,) if extra is None else (image, extra)
        task = prepare(*inputs, channel_axis=axis, seed=seed + k, **options)
        if bars:
            bars[-1].bar.close()
        bars.append(Progress(task, label if runs == 1 else f"{label} run {k + 1}/{runs}", args.quiet, snapshot))
        return task

    try:
        output, history = average_runs(runs, make_run, lambda record: bars[-1](record))
    finally:
        for progress in bars:
            progress.bar.close()
    if isinstance(output, tuple):  # enhance: (coarse, fine, enhanced) -> enhanced, coarse
        return [output[2], output[0]], history
    return [output], history


def read_extra(args: argparse.Namespace) -> ImageFile | None:
    """The mask (inpaint) or flash image (flash) given on the command line."""
    if args.task == "inpaint":
        return read_mask(args.mask, known=args.known_mask)
    if args.task == "flash":
        return read_image(args.flash)
    return None


def process(args: argparse.Namespace, source: Path, outputs: list[Path], extra: ImageFile | None, options: dict) -> str:
    """Restore every slice of ``source`` and write ``outputs``; return a summary line."""
    start = time.perf_counter()
    image = read_image(source)
    for path in outputs:
        check_writable(path, image.data.dtype, image.channel_axis is not None, image.slice_ndim > 0)
    results: list[list[np.ndarray]] = []
    history = None
    for index in image.slices():
        label = source.name + (f" [{','.join(map(str, index))}]" if index else "")
        tag = "s" + "-".join(map(str, index)) + "_" if index else ""
        snapshot = None if args.save_every is None else (
            args.save_every, lambda i, tag=tag: companion_path(outputs[0], f"{tag}it{i:05d}"))
        try:
            paired = companion_slice(extra, image, index, args.task)
            slice_out, history = restore_slice(args, image.data[index], image.channel_axis, paired, options, label,
                                               snapshot)
        except InputError:
            raise
        except ValueError as exc:  # the engine's validation messages
            raise InputError(f"{source}: {exc}") from exc
        results.append(slice_out)
    for k, path in enumerate(outputs):
        data = results[0][k]
        if image.slice_ndim:
            data = np.stack([r[k] for r in results]).reshape(image.slice_shape + data.shape)
        write_image(path, data, image.channel_axis)
    return (f"wrote {outputs[0]} ({len(results)} image(s), {history.stop_iteration} iterations, "
            f"{history.stop_reason}, {time.perf_counter() - start:.1f} s)")


def plan_outputs(args: argparse.Namespace, sources: list[Path], options: dict) -> list[list[Path]]:
    """The output files of every input (main output first); checked before any work starts."""
    tag = TASKS[args.task][1].format(factor=options.get("factor"))
    plans = []
    for source in sources:
        main_out = output_path(source, args.output, tag, args.format, len(sources) == 1)
        plans.append([main_out] + ([companion_path(main_out, "coarse")] if args.task == "enhance" else []))
    check_outputs([p for plan in plans for p in plan], args.overwrite)
    if args.save_every is not None and not args.overwrite:
        for plan in plans:
            old = sorted(plan[0].parent.glob(f"{plan[0].stem}_*it[0-9]*{plan[0].suffix}"))
            if old:
                raise InputError(f"{old[0]} exists (a snapshot of an earlier run): pass --overwrite or another -o.")
    return plans


def run(args: argparse.Namespace) -> int:
    """Run a parsed command line; return the exit code."""
    options = engine_options(args)
    sources = expand_inputs(args.inputs)
    if args.task == "flash" and len(sources) > 1:
        raise InputError(f"flash restores one no-flash image with its --flash image, got {len(sources)} inputs.")
    plans = plan_outputs(args, sources, options)
    extra = read_extra(args)
    if args.task == "inpaint" and not args.known_mask and options["kind"] != "sparse" and extra.data.mean() > 0.5:
        warnings.warn(f"{extra.path} marks {100 * extra.data.mean():.0f} % of the pixels as missing; if its white "
                      "pixels are the known ones (as in the DIP repository's masks), add --known-mask.", stacklevel=2)
    failed = 0
    for source, outputs in zip(sources, plans):
        outputs[0].parent.mkdir(parents=True, exist_ok=True)
        try:
            summary = process(args, source, outputs, extra, dict(options))
        except InputError as exc:
            if len(sources) == 1:
                raise
            failed += 1
            print(f"napari-dip: error: {exc}", file=sys.stderr)
            continue
        if not args.quiet:
            print(f"napari-dip: {summary}")
    if failed:
        print(f"napari-dip: error: {failed} of {len(sources)} inputs failed (see above).", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
