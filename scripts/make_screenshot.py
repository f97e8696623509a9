"""Make the screenshots in docs/ from a real napari viewer with the Denoise widget docked.

``--which main`` (docs/screenshot.png): opens the "noisy astronaut" sample,
chooses the clean image as the reference (so the plot shows PSNR next to the
loss), runs the Denoise widget on the CPU, takes a screenshot of the whole
window once the fit has run ``--at`` iterations, then presses Stop.

``--which history`` (docs/history.png and docs/compare.png): runs a whole
fit, scrubs the history back to the best-PSNR iteration and keeps it, then
presses Compare (classic methods in a grid, with the PSNR / SSIM table).

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


def _settle(app) -> None:
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)


def _history_and_compare(app, viewer, widget, args) -> None:
    """docs/history.png: scrubbed back to the best PSNR; docs/compare.png: the classic methods in a grid."""
    widget.fit.iterations.value = args.iterations
    widget._on_run()
    _wait(app, lambda: widget._worker is None, args.timeout)
    widget.history.best_button.click()
    widget.history.keep_button.click()
    viewer.layers.selection.active = widget.history.layer
    for name in ("astronaut (clean)", "noisy astronaut [denoised]"):
        viewer.layers[name].visible = False
    viewer.reset_view()
    _settle(app)
    viewer.screenshot(str(args.docs / "history.png"), canvas_only=False)
    widget.history.layer.visible = False
    with_compare = widget.compare
    with_compare.button.click()
    _wait(app, lambda: with_compare._worker is None and with_compare.layers, args.timeout)
    for name in ("astronaut (clean)", "noisy astronaut [denoised]"):
        viewer.layers[name].visible = True
    viewer.reset_view()
    _settle(app)
    viewer.screenshot(str(args.docs / "compare.png"), canvas_only=False)
    print(f"saved history.png and compare.png in {args.docs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    docs = Path(__file__).resolve().parents[1] / "docs"
    parser.add_argument("--which", choices=("main", "history"), default="main")
    parser.add_argument("--output", type=Path, default=docs / "screenshot.png", help="for --which main")
    parser.add_argument("--docs", type=Path, default=docs, help="folder of history.png and compare.png")
    parser.add_argument("--at", type=int, default=600, help="iteration at which to take the main screenshot")
    parser.add_argument("--iterations", type=int, default=600, help="length of the fit for --which history")
    parser.add_argument("--timeout", type=float, default=900.0)
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
        if args.which == "history":
            _history_and_compare(app, viewer, widget, args)
            viewer.close()
            return
        widget._on_run()
        _wait(app, lambda: widget.plot.series("loss")[0] and widget.plot.series("loss")[0][-1] >= args.at,
              args.timeout)
        _wait(app, lambda: "noisy astronaut [preview]" in viewer.layers, args.timeout)
        viewer.grid.enabled = True
        viewer.layers.selection.active = viewer.layers["noisy astronaut [preview]"]
        viewer.reset_view()
        _settle(app)
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
