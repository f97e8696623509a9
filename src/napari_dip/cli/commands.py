"""The ``napari-dip`` commands and their flags: one sub-command per task, each with only the flags it takes."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from napari_dip import __version__

EXAMPLES = """examples:
  napari-dip denoise noisy.png -o clean.png
  napari-dip denoise cells.tif --noise poisson -o out/          # photon-limited 16-bit TIFF in, same dtype out
  napari-dip sr small.tif --factor 4 -o results/
  napari-dip inpaint photo.png --mask scratches.png -o out/
  napari-dip denoise zstack.tif --stack 3d -o out/               # one 3D fit of the whole Z-stack
  napari-dip denoise "frames/*.tif" -o out/ --workers 2          # a batch on Dask: 2 worker processes
  napari-dip denoise cells.tif --config cells_denoised.tif       # replay the settings a result records

Outputs are named after their inputs (cells_denoised.tif), record their settings, and never replace a file
without --overwrite: a rerun skips the inputs already done. 'napari-dip TASK --help' lists a task's flags."""


@dataclass(frozen=True)
class Command:
    """One sub-command: the engine task it runs, the tag of its outputs' names, a line of help and an example."""

    task: str
    tag: str
    about: str
    example: str


#: The sub-commands, in the order ``napari-dip --help`` lists them.
COMMANDS = {
    "denoise": Command("denoise", "denoised", "blind denoising: Gaussian or photon (Poisson) noise",
                       "napari-dip denoise noisy.png -o clean.png"),
    "jpeg": Command("jpeg", "dejpeg", "remove JPEG artefacts (blind restoration)",
                    "napari-dip jpeg photo.jpg -o restored.png"),
    "sr": Command("super_resolution", "sr{factor}", "super-resolution: the output is --factor times larger per side",
                  "napari-dip sr small.png --factor 4 -o large.png"),
    "inpaint": Command("inpaint", "inpainted", "fill the pixels marked in --mask",
                       "napari-dip inpaint photo.png --mask scratches.png -o out/"),
    "enhance": Command("enhance", "enhanced", "detail enhancement (also writes the coarse layer as NAME_coarse)",
                       "napari-dip enhance photo.png -o out/"),
    "flash": Command("flash", "restored", "restore a no-flash image (INPUT) guided by its --flash image",
                     "napari-dip flash noflash.jpg --flash flash.jpg -o restored.png"),
}
#: How ``--stack`` restores the slices of a TIFF stack: each alone, each from the previous fit, or as one volume.
STACK_MODES = ("warm", "slices", "3d")
DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")


def _thread_count(text: str) -> int | str:
    """--threads: a number, or "adaptive"."""
    if text == "adaptive":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of 1 or more, or 'adaptive'") from None


def _device(text: str) -> str:
    """--device: auto, cpu, cuda, cuda:N or mps."""
    kind, _, index = text.partition(":")
    if kind in DEVICE_NAMES and (not index or (kind == "cuda" and index.isdigit())):
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: choose auto, cpu, cuda (or cuda:N) or mps")


def _task_flags(parser: argparse.ArgumentParser, name: str) -> None:
    """The flags only one task has, first in its help."""
    from napari_dip.core.extras.classic_blend import CLASSIC_BLENDS
    from napari_dip.core.extras.fill_blend import CLASSIC_FILLS
    from napari_dip.core.fitting.regions import REGIONS
    from napari_dip.core.inputs.volumes import OUTPUT_DTYPES
    from napari_dip.core.physics.noise import NOISE_MODELS
    from napari_dip.core.tasks.presets import INPAINT_KINDS

    group = parser.add_argument_group(f"{name} options")
    if name == "denoise":
        group.add_argument("--noise", choices=NOISE_MODELS,
                           help="gaussian (default) or poisson: photon-limited data (microscopy, low light)")
        group.add_argument("--gain", type=float, help="poisson: intensity per photon (default: estimated)")
        group.add_argument("--read-noise", type=float, help="poisson: read-noise std (default: estimated)")
        group.add_argument("--offset", type=float, help="poisson: intensity of zero photons (default 0)")
        group.add_argument("--classic", choices=("none", *CLASSIC_BLENDS),
                           help="bm3d: average the fit with BM3D (preset sure; needs the optional bm3d package), the "
                                "DIP share chosen from held-out pixels (with --noise poisson: on the Anscombe "
                                "transform); none (default): the fit alone")
        group.add_argument("--output-dtype", choices=OUTPUT_DTYPES,
                           help="input (default): write the input's dtype; float32: an integer image's estimate "
                                "unrounded (TIFF only)")
        group.add_argument("--runs", type=int, default=1, help="average this many fits (seeds seed, seed+1, ...)")
    if name == "sr":
        group.add_argument("--factor", type=int, help="magnification, 2 or more (default 4)")
        group.add_argument("--back-projections", type=int, metavar="N",
                           help="back-projection steps onto the input at the end (default: the preset's, 1 for "
                                "fast, 0 for paper)")
    if name == "inpaint":
        group.add_argument("--mask", type=Path, required=True, help="mask image: non-zero = missing pixel")
        group.add_argument("--known-mask", action="store_true", help="the mask's non-zero pixels are the KNOWN ones")
        group.add_argument("--kind", choices=tuple(INPAINT_KINDS),
                           help="text (default: thin strokes, scratches), hole (large regions) or sparse (most "
                                "pixels missing)")
        group.add_argument("--region", choices=tuple(REGIONS),
                           help="mask (default: fit around the mask, change only its pixels) or whole (fit the "
                                "whole image, every pixel from the network, as the paper)")
        group.add_argument("--classic", choices=("auto", "none", *CLASSIC_FILLS),
                           help="biharmonic: average each region's fill with biharmonic inpainting, the DIP share "
                                "chosen on held-out known pixels shaped like the mask; auto (default): so wherever "
                                "the fit holds pixels out (around the mask, 2D, with the automatic stop); none: the "
                                "fit alone")
    if name == "flash":
        group.add_argument("--flash", type=Path, required=True, help="the flash image of the same scene")


def _io_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input and output")
    group.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or glob patterns")
    group.add_argument("-o", "--output", help="output file (one input) or folder (default: next to the inputs)")
    group.add_argument("--format", choices=("png", "jpg", "tif"),
                       help="output format (default: the input's; PNG for JPEG inputs)")
    group.add_argument("--overwrite", action="store_true", help="replace existing outputs (else: skip their inputs)")
    group.add_argument("--config", type=Path, metavar="FILE",
                       help="replay the settings of a result: an output image, a JSON file or saved layer metadata")
    group.add_argument("--save-every", type=int, metavar="N", help="also write a snapshot every N iterations")


def _fit_flags(parser: argparse.ArgumentParser, name: str) -> None:
    from napari_dip.core.runtime.devices import PRECISIONS
    from napari_dip.core.tasks.presets import preset_choices

    presets = preset_choices(COMMANDS[name].task)
    group = parser.add_argument_group("fit")
    group.add_argument("--preset", choices=presets, metavar="NAME",
                       help=f"{', '.join(presets)} (default {presets[0]}; see 'presets' below)")
    group.add_argument("--iterations", type=int, help="number of Adam steps (default: the preset's)")
    group.add_argument("--lr", type=float, help="learning rate (default: the preset's)")
    group.add_argument("--seed", type=int, help="random seed (default 0)")
    group.add_argument("--auto-stop", action=argparse.BooleanOptionalAction,
                       help="stop by itself once the picture is as good as it gets (no ground truth); default: the "
                            "preset's choice; --no-auto-stop runs all --iterations")
    if name != "sr":
        group.add_argument("--holdout", type=float, metavar="F",
                           help="leave this share of the pixels out of the fit; the automatic stop then ends the fit "
                                "where their error is lowest (default: the preset's)")
    group.add_argument("--tv-weight", type=float, metavar="W",
                       help="add W x the total variation of the output to the loss (DIP-TV; default 0)")
    group.add_argument("--tile", help="auto (default: overlapping tiles when the image is too large for the device), "
                                      "none (refuse such images) or a tile side in pixels")
    machine = parser.add_argument_group("machine")
    machine.add_argument("--device", type=_device, metavar="{auto,cpu,cuda,mps}",
                         help="auto (default: CUDA, then MPS, then the CPU), cpu, cuda, cuda:N or mps")
    machine.add_argument("--precision", choices=PRECISIONS,
                         help="autocast precision; auto (default): bfloat16 where the device runs it natively, "
                              "else float32")
    machine.add_argument("--threads", type=_thread_count, help="CPU threads per fit, or 'adaptive' (the default; "
                         "OMP_NUM_THREADS when set). A number repeats a seed's result bit for bit")


def _stack_flags(parser: argparse.ArgumentParser, name: str, volume: bool) -> None:
    modes = STACK_MODES if volume else STACK_MODES[:2]
    group = parser.add_argument_group("stacks (TIFF files with several slices)")
    group.add_argument("--stack", choices=modes,
                       help="warm (default): each slice starts from the previous slice's fit; slices: each slice "
                            "from scratch" + ("; 3d: the last three axes as one volume" if volume else ""))
    group.add_argument("--warm-iterations", type=int, metavar="N",
                       help="--stack warm: iterations of each slice after the first (default: half the first's)")
    if volume:
        group.add_argument("--spacing", metavar="Z,Y,X", help="--stack 3d: the voxel size (default 1,1,1)")
    if name == "denoise":
        group.add_argument("--context", type=int, metavar="N",
                           help="fit each slice together with N neighbouring slices on each side (default 3; 0: "
                                "each slice alone; not with --stack 3d)")


def _other_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scale-out on Dask")
    group.add_argument("--workers", type=int, metavar="N", help="restore on a local cluster of N processes")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="restore on the running Dask cluster at ADDRESS (tcp://HOST:PORT)")
    messages = parser.add_argument_group("messages")
    messages.add_argument("-q", "--quiet", action="store_true", help="no progress bar or messages")
    messages.add_argument("--debug", action="store_true", help="show tracebacks")


def _epilog(command: Command) -> str:
    """A sub-command's example and one line on each of its presets."""
    from napari_dip.core.tasks.presets import PRESET_NOTES, preset_choices

    presets = preset_choices(command.task)
    width = max(map(len, presets))
    lines = [f"  {preset:<{width}}  {PRESET_NOTES[preset]}" for preset in presets]
    return f"example:\n  {command.example}\n\npresets:\n" + "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one sub-command per task, with its own flags first."""
    from napari_dip.core.inputs.volumes import VOLUME_TASKS

    parser = argparse.ArgumentParser(prog="napari-dip", description="Deep Image Prior restoration of image files.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"napari-dip {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="TASK")
    for name, command in COMMANDS.items():
        task = sub.add_parser(name, help=command.about, description=command.about, epilog=_epilog(command),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        _task_flags(task, name)
        _io_flags(task)
        _fit_flags(task, name)
        _stack_flags(task, name, command.task in VOLUME_TASKS)
        _other_flags(task)
        task.set_defaults(task=command.task)
    return parser
