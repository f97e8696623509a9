"""Make docs/screenshot.png: the Denoise widget docked in a real napari viewer, mid-run.

Opens the "noisy astronaut" sample, chooses the clean image as the reference
(so the plot shows PSNR next to the loss), runs the Denoise widget on the CPU,
takes a screenshot of the whole window once the fit has run ``--at``
iterations, then presses Stop (the result is kept as an output layer).

Run it with a display, or headless: it starts a virtual X server itself when
``pyvirtualdisplay`` is installed (pytest-xvfb brings it), otherwise use
``xvfb-run python scripts/make_screenshot.py``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

SIZE = (1400, 860)


def _wait(app, condition, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the fit did not get far enough in time")
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "screenshot.png")
    parser.add_argument("--at", type=int, default=600, help="iteration at which to take the screenshot")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    display = None
    if not os.environ.get("DISPLAY"):
        from pyvirtualdisplay import Display

        display = Display(visible=False, size=SIZE, color_depth=24)
        display.start()
    try:
        import napari
        from napari.qt import get_qapp

        app = get_qapp()
        viewer = napari.Viewer(title="napari-dip", show=True)
        viewer.window.resize(*SIZE)
        viewer.open_sample("napari-dip", "noisy")
        _, widget = viewer.window.add_plugin_dock_widget("napari-dip", "Denoise")
        widget.image.value = viewer.layers["noisy astronaut"]
        widget.reference.value = viewer.layers["astronaut (clean)"]
        widget.fit.device.value = "cpu"
        widget._on_run()
        _wait(app, lambda: widget.plot.series("loss")[0] and widget.plot.series("loss")[0][-1] >= args.at,
              args.timeout)
        _wait(app, lambda: "noisy astronaut [preview]" in viewer.layers, args.timeout)
        viewer.grid.enabled = True
        viewer.layers.selection.active = viewer.layers["noisy astronaut [preview]"]
        viewer.reset_view()
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        viewer.screenshot(str(args.output), canvas_only=False)
        widget._on_stop()
        _wait(app, lambda: widget._worker is None, args.timeout)
        print(f"saved {args.output}; output layers: {[layer.name for layer in widget.last_outputs]}")
        viewer.close()
    finally:
        if display is not None:
            display.stop()


if __name__ == "__main__":
    main()
