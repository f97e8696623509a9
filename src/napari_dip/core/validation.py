"""Up-front checks of settings: a bad value is refused before any work starts.

Every check raises :class:`ValueError` with a message that starts with the
parameter and the value given (``iterations=2.5: ...``) and says which values
are accepted, so the API, the command line (flags and ``--config`` keys) and
the widgets all report the same words. Booleans are not numbers here
(``iterations=True`` is refused), and numbers are not strings
(``lr="0.01"`` is refused rather than guessed).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np


class InputError(ValueError):
    """Bad input from the user (a file, a path, a layer, a setting); the message names the problem and the fix."""


#: Seeds are whole numbers in [0, MAX_SEED] (what torch's generators accept).
MAX_SEED = 2**63 - 1


def is_whole(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), booleans excluded."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (int or float, Python or numpy), booleans excluded."""
    return (is_whole(value) or isinstance(value, (float, np.floating))) and not isinstance(value, (bool, np.bool_))


def whole_number(name: str, value: Any, minimum: int = 1, maximum: int | None = None, why: str = "") -> int:
    """Return ``value`` as an int in [minimum, maximum]; ValueError naming ``name`` otherwise.

    ``why`` replaces "pass" at the start of the advice (e.g. "super-resolution needs").
    """
    bounds = f"of at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    accepted = f"{why or 'pass'} a whole number {bounds}"
    if not is_whole(value):
        raise ValueError(f"{name}={value!r}: {accepted} (an int, not {type(value).__name__}).")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name}={value!r}: {accepted}.")
    return int(value)


def positive_whole(name: str, value: Any) -> int:
    """A count of at least 1 (iterations, runs, patience, ...)."""
    return whole_number(name, value, 1)


def real_number(
    name: str, value: Any, low: float = -math.inf, high: float = math.inf, *, open_low: bool = False,
    open_high: bool = False, accepted: str = "",
) -> float:
    """Return ``value`` as a finite float within the bounds; ValueError naming ``name`` otherwise.

    ``accepted`` describes the range in words (default: the interval).
    """
    interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    accepted = accepted or f"a number in {interval}"
    if not is_real(value):
        raise ValueError(f"{name}={value!r}: pass a finite number ({accepted}), not a {type(value).__name__}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name}={value!r}: pass a finite number ({accepted}).")
    too_low = number <= low if open_low else number < low
    too_high = number >= high if open_high else number > high
    if too_low or too_high:
        raise ValueError(f"{name}={value!r}: pass {accepted}.")
    return number


def positive(name: str, value: Any, what: str = "the value") -> float:
    """A finite number above 0 (learning rate, ratios)."""
    return real_number(name, value, 0.0, open_low=True, accepted=f"a number > 0: {what} must be positive")


def non_negative(name: str, value: Any) -> float:
    """A finite number of 0 or more (standard deviations)."""
    return real_number(name, value, 0.0, accepted="a number of 0 or more")


def flag(name: str, value: Any) -> bool:
    """A boolean: True or False (numpy booleans too), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r}: pass True or False.")
    return bool(value)


def choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """One of ``choices`` (strings)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r}: choose one of {', '.join(choices)}.")
    return value


def fresh_seed() -> int:
    """A new random seed (small enough for the widgets' seed box)."""
    return secrets.randbelow(2**31)


def seed(value: Any, name: str = "seed") -> int:
    """A seed in [0, 2**63 - 1]; ``None`` draws a fresh one (record it to repeat the run)."""
    if value is None:
        return fresh_seed()
    if not is_whole(value) or not 0 <= value <= MAX_SEED:
        raise ValueError(
            f"{name}={value!r}: pass a whole number from 0 to 2**63 - 1, or None for a fresh random seed "
            "(it is recorded in the settings)."
        )
    return int(value)


def callback(value: Any, name: str = "callback") -> Callable | None:
    """None or a callable taking one progress record."""
    if value is not None and not callable(value):
        raise ValueError(
            f"{name}={value!r}: pass a function that takes one progress record (return False to stop), or None."
        )
    return value


def device_name(value: Any) -> Any:
    """A device is given by name ("auto", "cpu", "cuda", "cuda:1", "mps") or as a torch.device."""
    if isinstance(value, str) or type(value).__name__ == "device":
        return value
    raise ValueError(f"device={value!r}: pass a device name: 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'.")


def shape(name: str, value: Any, lengths: tuple[int, ...], sides: slice, minimum: int, what: str) -> tuple[int, ...]:
    """A shape of whole numbers with ``lengths`` entries: ``value[sides]`` at least ``minimum``, the rest at least 1.

    ``what`` names the layout in the message, e.g. "(height, width) or (height, width, channels)".
    """
    try:
        values = tuple(value)
    except TypeError:
        values = ()
    if len(values) not in lengths or not all(is_whole(v) for v in values):
        raise ValueError(f"{name}={value!r}: give {what} as whole numbers.")
    if min(values) < 1 or min(values[sides]) < minimum:
        raise ValueError(
            f"{name}={value!r}: give {what}, with at least 1 channel and sides of {minimum} pixels or more."
        )
    return tuple(int(v) for v in values)
