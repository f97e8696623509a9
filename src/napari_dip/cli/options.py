"""From flags and ``--config`` to the engine's keywords, every value checked before any file is read."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from napari_dip.batch.files import read_settings
from napari_dip.core.validation import InputError

#: Flags copied into the engine's keywords when given (they override --config).
FLAGS = ("preset", "iterations", "lr", "seed", "device", "precision", "threads", "tv_weight", "holdout")
#: Denoising flags of photon noise.
NOISE_FLAGS = ("noise", "gain", "read_noise", "offset")


def load_config(path: Path, task: str) -> dict:
    """The replayed keywords of a result's settings (an output image, a JSON file or saved layer metadata).

    Keys no result records are refused by name (a typo would otherwise be
    ignored); descriptive entries (task, network, ...) are dropped; the values
    are checked like the flags, in :func:`validate`.
    """
    from napari_dip.core.tasks.settings import replay_keywords, unknown_keys
    from napari_dip.core.validation import device_name

    settings = read_settings(path)
    unknown = unknown_keys(settings)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r}: use the names of napari_dip.FitConfig's fields, "
                         "preset, device, factor and kind (or the settings a result records).")
    saved = str(settings.get("task", task))
    if not saved.startswith(task):
        warnings.warn(f"{path} holds settings of the {saved!r} task; using them for {task!r}.", stacklevel=2)
    options = replay_keywords(settings)
    try:  # the file on its own, even where flags override it (its device may be another machine's: checked later)
        device_name(options.get("device", "auto"))
        validate(task, {key: value for key, value in options.items() if key != "device"})
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from exc
    return options


def _positive_flag(flag: str, value: int | str | None) -> None:
    """Refuse a zero or negative count given on the command line, naming the flag."""
    if isinstance(value, int) and value < 1:
        raise InputError(f"{flag} {value}: give a whole number of 1 or more.")


def _config_device(args: argparse.Namespace, options: dict) -> None:
    """Keep the settings' device only if this machine has it."""
    from napari_dip.core.runtime.devices import resolve_device

    if args.device is None and isinstance(options.get("device"), str):
        try:
            resolve_device(options["device"])
        except ValueError:
            warnings.warn(f"{args.config} was made on device {options.pop('device')!r}, not available here: "
                          "using --device auto.", stacklevel=3)


def _tile(text: str) -> str | int | None:
    tile = text.lower()
    if tile not in ("auto", "none") and not tile.isdigit():
        raise InputError(f"--tile {text}: use auto, none or a tile side in pixels (e.g. 512).")
    return None if tile == "none" else tile if tile == "auto" else int(tile)


def _task_options(args: argparse.Namespace, options: dict) -> None:
    """The task's own flags over the settings: factor, kind, region, classic average, output dtype, photon noise."""
    factor, kind = options.pop("factor", None), options.pop("kind", None)
    region = options.pop("region", None)
    if args.task == "super_resolution":
        options["factor"] = next((f for f in (args.factor, factor) if f is not None), 4)
        if args.back_projections is not None:
            options["back_projections"] = args.back_projections
    if args.task == "inpaint":
        options["kind"] = next((k for k in (args.kind, kind) if k is not None), "text")
        options["region"] = next((r for r in (args.region, region) if r is not None), "mask")
    classic, dtype = options.pop("classic", None), options.pop("output_dtype", "input")
    if args.task == "inpaint":  # the flag, else the settings' choice, else auto; 'none': no average
        from napari_dip.core.extras.fill_blend import AUTO_FILL

        chosen = args.classic or classic or AUTO_FILL
        options["classic"] = None if chosen == "none" else chosen
    if args.task == "denoise":
        chosen = {None: classic, "none": None}.get(args.classic, args.classic)
        if chosen is not None:
            options["classic"] = chosen
        dtype = args.output_dtype or dtype
        if dtype != "input":
            options["output_dtype"] = dtype
    for key in NOISE_FLAGS:
        value = getattr(args, key, None)
        if args.task != "denoise":
            options.pop(key, None)  # photon noise settings of a denoising --config
        elif value is not None:
            options[key] = value


def _stack_options(args: argparse.Namespace, options: dict) -> None:
    """--stack (the settings' 3D fit when not given), --spacing and --warm-iterations."""
    volume = options.pop("spatial_dims", 2) == 3
    spacing = options.pop("spacing", None)
    if args.stack is None:
        args.stack = "3d" if volume and hasattr(args, "spacing") else "warm"
    if getattr(args, "spacing", None) is not None:
        try:
            spacing = tuple(float(v) for v in args.spacing.split(","))
        except ValueError:
            raise InputError(f"--spacing {args.spacing}: give three numbers, e.g. --spacing 2,0.5,0.5.") from None
        if args.stack != "3d":
            raise InputError("--spacing is the voxel size of a 3D fit: add --stack 3d.")
    if args.stack == "3d" and spacing is not None:
        options["spacing"] = tuple(spacing)
    _positive_flag("--warm-iterations", args.warm_iterations)
    if args.warm_iterations is not None and args.stack != "warm":
        raise InputError(f"--warm-iterations sets the iterations of warm-started slices: use it with --stack warm, "
                         f"not --stack {args.stack}.")
    _context_option(args, options)


def _context_option(args: argparse.Namespace, options: dict) -> None:
    """--context: the neighbouring slices each slice of a denoised stack is fitted with (none for --stack 3d)."""
    from napari_dip.core.tasks.windows import resolve_context

    given = getattr(args, "context", None)
    if args.task != "denoise":
        return
    if args.stack == "3d":
        if given:
            raise InputError("--context fits each 2D slice with its neighbours: leave it out with --stack 3d.")
        return
    try:
        options["context"] = resolve_context("auto" if given is None else given)
    except ValueError as exc:
        raise InputError(f"--context {given}: give the number of neighbouring slices on each side (0 for none).") \
            from exc


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords for the engine: --config first, explicit flags over it; every value checked before any work."""
    for flag, value in (("--save-every", args.save_every), ("--threads", args.threads),
                        ("--runs", getattr(args, "runs", None))):
        _positive_flag(flag, value)
    if args.threads == "adaptive" and (args.workers or args.scheduler):
        raise InputError("--threads adaptive chooses among all of this machine's cores for one fit at a time: with "
                         "--workers or --scheduler give a number (or leave --threads out to share the cores).")
    options = load_config(args.config, args.task) if args.config else {}
    _config_device(args, options)
    options.update({flag: getattr(args, flag) for flag in FLAGS if getattr(args, flag, None) is not None})
    if args.auto_stop is not None:
        options["auto_stop"] = args.auto_stop
    if args.tile is not None:
        options["tile"] = _tile(args.tile)
    if args.save_every is not None:
        options["preview_every"] = args.save_every
    _task_options(args, options)
    _stack_options(args, options)
    validate(args.task, options)
    if "seed" in options:  # a settings file may hold "seed": null, i.e. a fresh seed: draw it once, for every input
        from napari_dip.core.validation import seed

        options["seed"] = seed(options["seed"])
    return options


def validate(task: str, options: dict) -> None:
    """Check the device, preset and fit settings once, before any file is read (ValueError naming the value)."""
    from napari_dip.core import validation as check
    from napari_dip.core.extras.classic_blend import check_classic
    from napari_dip.core.extras.fill_blend import check_fill_classic
    from napari_dip.core.fitting.config import FitConfig
    from napari_dip.core.inputs.volumes import OUTPUT_DTYPES
    from napari_dip.core.runtime.devices import resolve_device
    from napari_dip.core.tasks.preset_choice import choose_preset
    from napari_dip.core.tasks.presets import DEFAULT_PRESET

    resolve_device(check.device_name(options.get("device", "auto")))
    (check_fill_classic if task == "inpaint" else check_classic)(options.get("classic"))
    check.choice("output_dtype", options.get("output_dtype", "input"), OUTPUT_DTYPES)
    choose_preset(task, options.get("preset", DEFAULT_PRESET), factor=options.get("factor", 4),
                  kind=options.get("kind"), noise=options.get("noise", "gaussian"), options=options)
    FitConfig(**{k: v for k, v in options.items()
                 if k in FitConfig.__dataclass_fields__ and not (k == "stop_loss" and v == "auto")})
