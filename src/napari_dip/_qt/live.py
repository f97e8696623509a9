"""Pieces that follow a run in the viewer: its worker, the widget's lifeline and the live preview layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from napari_dip.gui.layers import WORKING, spatial_geometry


def make_worker(func: Any, *args: Any) -> Any:
    """A napari thread worker (not started) running ``func(*args)``, whose warnings reach the viewer.

    napari relays a worker's warnings to its notifications only where its mixin gets initialised, which some Qt
    bindings skip; this relay shows each warning once either way (the notification manager drops repeats).
    """
    from napari.qt.threading import create_worker
    from napari.utils.notifications import notification_manager

    worker = create_worker(func, *args, _start_thread=False)
    worker.warned.connect(lambda shown: notification_manager.receive_warning(*shown))
    return worker


class Lifeline:
    """Outlives the Qt widget: once the widget is destroyed, quit the worker and drop late signals."""

    def __init__(self) -> None:
        self.alive = True
        self.worker: Any = None

    def cut(self, *_: Any) -> None:
        self.alive = False
        if self.worker is not None:
            self.worker.quit()

    def guard(self, handler: Any) -> Any:
        def guarded(*args: Any) -> None:
            if self.alive:
                handler(*args)

        return guarded


class PreviewLayer:
    """The ``name [preview]`` layer, updated in place; once the user deletes it, it stays deleted for the run."""

    def __init__(self, viewer: Any):
        self.viewer = viewer
        self.layer: Any = None
        self.dropped = False

    def show(self, data: np.ndarray, plan: Any) -> None:
        """Show ``data`` (one 2D image, drawn on every slice) for the run described by ``plan``."""
        if self.layer is None:
            if self.dropped:
                return
            scale, translate = spatial_geometry(plan.scale, plan.translate, data.ndim - int(plan.rgb))
            self.layer = self.viewer.add_image(
                data, name=f"{plan.source} [preview]", scale=scale, translate=translate, rgb=plan.rgb,
                contrast_limits=plan.contrast_limits, metadata={WORKING: True},
            )
        elif self.layer in self.viewer.layers:
            self.layer.data = data
        else:  # the user deleted the preview: leave it deleted
            self.layer, self.dropped = None, True

    def remove(self) -> None:
        if self.layer is not None and self.layer in self.viewer.layers:
            self.viewer.layers.remove(self.layer)
        self.layer, self.dropped = None, False
