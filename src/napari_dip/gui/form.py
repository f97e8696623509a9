"""What the widgets' forms show, without Qt: the presets offered, a preset's settings, the stack modes, progress.

The presets and their one-line notes come from
:mod:`napari_dip.core.tasks.presets`, so the widgets, the command line and the
Python API offer the same names.
"""

from __future__ import annotations

from typing import Any

#: How a layer with more than two dimensions is restored: one 2D slice, every slice in turn, or its last 3 axes
#: (Z, Y, X) as one volume.
SLICE_MODES = ("current slice", "all slices (warm start)", "whole volume (3D)")
#: The fields of a preset the widgets show (and let the user edit).
SHOWN_FIELDS = ("iterations", "lr", "use_ema", "auto_stop", "patience", "optimize", "tv_weight")


def preset_tips(names: tuple[str, ...]) -> str:
    """One line on each preset of ``names``, for a tooltip."""
    from napari_dip.core.tasks.presets import PRESET_NOTES

    return "\n".join(f"{name}: {PRESET_NOTES[name]}" for name in names)


def shown_settings(settings: Any) -> dict[str, Any]:
    """The values of :data:`SHOWN_FIELDS` in a preset's ``settings`` (a :class:`~napari_dip.core.tasks.presets.Preset`)."""
    return {name: getattr(settings, name) for name in SHOWN_FIELDS}


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h{seconds % 3600 // 60:02d}"


def progress_text(position: int, count: int, iteration: int, total: int, elapsed: float,
                  later: int | None = None) -> tuple[float, str]:
    """Overall fraction done and a line: slice, iteration, iterations per second, time left.

    ``later`` is the iterations of each slice after this one (the warm-started slices run fewer; default
    ``total``).
    """
    later = total if later is None else later
    rate = iteration / elapsed if elapsed > 0 else 0.0
    fraction = (position + iteration / max(total, 1)) / max(count, 1)
    left = ((total - iteration) + (count - position - 1) * later) / rate if rate > 0 else None
    parts = [f"slice {position + 1}/{count}"] if count > 1 else []
    parts.append(f"{iteration}/{total} it")
    parts.append(f"{rate:.1f} it/s")
    parts.append(f"{_clock(left)} left" if left is not None else "-- left")
    return fraction, " · ".join(parts)
