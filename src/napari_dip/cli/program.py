"""Running a parsed command line: plan the outputs, restore the inputs (here or on Dask), report."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from napari_dip.batch.files import check_outputs, companion_path, expand_inputs, output_path, prepare_folder
from napari_dip.batch.pieces import read_extra
from napari_dip.batch.serial import run_serial
from napari_dip.cli.commands import COMMANDS, build_parser
from napari_dip.cli.options import engine_options
from napari_dip.core.validation import InputError


def plan_outputs(args: argparse.Namespace, sources: list[Path], options: dict) -> list[list[Path]]:
    """The output files of every input (main output first); their folders are made and checked before any work."""
    tag = COMMANDS[args.command].tag.format(factor=options.get("factor"))
    plans = []
    for source in sources:
        main_out = output_path(source, args.output, tag, args.format, len(sources) == 1)
        plans.append([main_out] + ([companion_path(main_out, "coarse")] if args.task == "enhance" else []))
    check_outputs([p for plan in plans for p in plan], sources)
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
    from napari_dip.batch.cluster import check_address, require_dask

    try:
        require_dask()
    except ImportError as exc:
        raise InputError(f"--workers / --scheduler need Dask: {exc}") from exc
    if args.scheduler:
        check_address(args.scheduler)
    return True


def _warn_about_mask(args: argparse.Namespace, extra, options: dict) -> None:
    """A mask that marks most pixels as missing may be a mask of the known pixels (as in the DIP repository)."""
    if args.task == "inpaint" and not args.known_mask and options["kind"] != "sparse" and extra.data.mean() > 0.5:
        warnings.warn(f"{extra.path} marks {100 * extra.data.mean():.0f} % of the pixels as missing; if its white "
                      "pixels are the known ones (as in the DIP repository's masks), add --known-mask.", stacklevel=2)


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
    _warn_about_mask(args, extra, options)
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
        print(f"napari-dip: error: {_message(exc)}", file=sys.stderr)
        return 1


def _message(exc: Exception) -> str:
    """What went wrong, in the user's words: the system's reason for a file operation that failed, the engine's
    own message for bad input, else the error with a pointer to --debug."""
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        return (f"the system refused a file operation: {reason}{where}: free some space, check the permissions, "
                "or point TMPDIR at a folder with room.")
    if isinstance(exc, ValueError):
        return str(exc)
    return f"{exc} ({type(exc).__name__}; rerun with --debug for the traceback)"
