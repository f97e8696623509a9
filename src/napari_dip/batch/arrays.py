"""Lazy stacks on Dask: :func:`map_blocks` restores a dask (or numpy) array slice by slice, lazily."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from napari_dip.batch.cluster import require_dask


def _restore_block(block: np.ndarray, *, function: Callable[..., Any], lead: int, colour: bool,
                   kwargs: dict) -> np.ndarray:
    """Restore the one slice in ``block`` (shape ``(1, ..., 1, Y, X[, C])``)."""
    plane = block.reshape(block.shape[lead:])
    result = function(plane, channel_axis=2 if colour else None, **kwargs)
    if isinstance(result, tuple):  # enhance: (coarse, fine, enhanced)
        result = result[2]
    return result.reshape((1,) * lead + result.shape)


def map_blocks(task: str | Callable[..., Any], array: Any, *, channel_axis: int | None = None,
               **kwargs: Any) -> Any:
    """Restore ``array`` slice by slice, lazily; return a dask array of the results.

    Parameters
    ----------
    task : str or callable
        ``"denoise"``, ``"jpeg"``, ``"super_resolution"``, ``"inpaint"``,
        ``"enhance"`` (gives the enhanced image) or ``"flash"``; or a function
        such as ``napari_dip.denoise`` called as ``task(slice, channel_axis=...,
        **kwargs)`` that returns an image of the slice's shape.
    array : numpy.ndarray or dask.array.Array
        Images of shape ``(..., Y, X)``, or with a colour axis. Every leading
        axis is a slice axis; each slice is one task and is read only when
        the result is computed (a lazily opened stack stays lazy).
    channel_axis : int, optional
        The colour axis of ``array`` (None: grey).
    **kwargs
        The task's keywords (``seed``, ``preset``, ``iterations``, ``factor``,
        ``threads``: CPU threads per fit, on which results depend, ...); ``mask=`` (inpaint) and ``flash=`` (flash) take one image used
        for every slice. Every slice is fitted with the same seed.

    Returns
    -------
    dask.array.Array
        The restored slices, in ``array``'s dtype and layout; super-resolution
        multiplies Y and X by ``factor``. Nothing is computed until you call
        ``.compute()`` (or napari displays a slice).
    """
    require_dask("dask.array")
    import dask.array as da

    from napari_dip.core import api

    functions = {"denoise": api.denoise, "jpeg": api.restore_jpeg, "super_resolution": api.super_resolve,
                 "inpaint": api.inpaint, "enhance": api.enhance, "flash": api.flash_no_flash}
    if isinstance(task, str) and task not in functions:
        raise ValueError(f"task={task!r}: choose one of {', '.join(functions)}, or pass a function.")
    function = functions[task] if isinstance(task, str) else task
    if not callable(function):
        raise ValueError(f"task={task!r}: pass a task name such as 'denoise' or a function of one image.")
    data = array if isinstance(array, da.Array) else da.from_array(np.asarray(array))
    colour = channel_axis is not None
    if colour:
        if not -data.ndim <= channel_axis < data.ndim:
            raise ValueError(f"channel_axis={channel_axis} is outside an array of {data.ndim} dimensions.")
        data = da.moveaxis(data, channel_axis, -1)
    lead = data.ndim - (3 if colour else 2)
    if lead < 0:
        raise ValueError(f"an array of shape {data.shape} has no {'colour ' if colour else ''}images: pass "
                         "(..., Y, X) or (..., Y, X, C) with channel_axis.")
    data = data.rechunk((1,) * lead + data.shape[lead:])
    factor = kwargs.get("factor", 4) if function is api.super_resolve else 1
    plane = tuple((size * factor,) for size in data.shape[lead:lead + 2]) + (((data.shape[-1],),) if colour else ())
    result = data.map_blocks(_restore_block, function=function, lead=lead, colour=colour, kwargs=kwargs,
                             chunks=data.chunks[:lead] + plane, dtype=data.dtype,
                             meta=np.empty((0,) * data.ndim, data.dtype))
    return da.moveaxis(result, -1, channel_axis) if colour else result

