"""The ``napari-dip`` command: Deep Image Prior restoration of image files, no napari needed.

``napari-dip TASK INPUT... [flags]`` restores files one after the other, or
on Dask with ``--workers`` / ``--scheduler``. :mod:`.commands` builds the
parser (one sub-command per task, with only its flags), :mod:`.options` turns
flags and ``--config`` into the engine's keywords, :mod:`.program` plans the
outputs and runs the batch (:mod:`napari_dip.batch`).
"""

from napari_dip.cli.commands import build_parser
from napari_dip.cli.options import engine_options
from napari_dip.cli.program import main

__all__ = ["build_parser", "engine_options", "main"]
