"""MkDocs hook: the command-line reference and the preset list, generated from the code at build time.

Markers replaced in the pages' Markdown (never copied by hand, so the site cannot drift from the code):

* ``<!-- cli-help -->``: ``napari-dip --help`` and ``napari-dip TASK --help`` for every task, each in a code
  block under a heading of its own, from :func:`napari_dip.cli.commands.build_parser`.
* ``<!-- denoise-presets -->``: a table of the presets the denoise task offers, with their one-line notes, from
  :data:`napari_dip.core.tasks.presets.PRESET_NOTES` and ``TASK_PRESET_CHOICES``.

If the code cannot be imported, the build stops with the import's error rather than publish a page without its
reference. Registered under ``hooks:`` in mkdocs.yml; the package is imported from ``src/`` when it is not
installed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

CLI_MARKER = "<!-- cli-help -->"
PRESETS_MARKER = "<!-- denoise-presets -->"
#: Width of the generated help text (argparse wraps to the terminal; a build has none).
HELP_WIDTH = "80"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _import_path() -> None:
    """Make ``src/`` importable when the package is not installed (a plain checkout)."""
    src = Path(__file__).resolve().parents[2] / "src"
    if src.is_dir() and str(src) not in sys.path:
        sys.path.insert(0, str(src))


def _help(parser: argparse.ArgumentParser) -> str:
    """``parser``'s help at a fixed width, without colour codes (Python 3.14 colours help on terminals)."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        return _ANSI.sub("", parser.format_help()).rstrip()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _block(text: str) -> str:
    return f"```text\n{text}\n```"


def cli_reference() -> str:
    """Markdown: the main help, then one section per sub-command with its help."""
    _import_path()
    from napari_dip.cli.commands import build_parser

    parser = build_parser()
    parts = ["### napari-dip --help", "", _block(_help(parser))]
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
    for action in subparsers:
        for name, sub in action.choices.items():
            parts += ["", f"### napari-dip {name}", "", _block(_help(sub))]
    return "\n".join(parts)


def preset_table() -> str:
    """Markdown: the denoise task's presets (the default first) and what each does."""
    _import_path()
    from napari_dip.core.tasks.presets import PRESET_NOTES, preset_choices

    rows = ["| preset | what it does |", "|---|---|"]
    rows += [f"| `{name}` | {PRESET_NOTES[name]} |" for name in preset_choices("denoise")]
    return "\n".join(rows)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs' hook signature
    """Fill the markers of a page."""
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if PRESETS_MARKER in markdown:
        markdown = markdown.replace(PRESETS_MARKER, preset_table())
    return markdown
