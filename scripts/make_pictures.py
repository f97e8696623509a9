"""Make the pictures of the documentation (docs/images/) from real runs: a napari window under a virtual display
for the screenshots, the engine for the before/after strip, the benchmark results for the curves.

Parts (``--parts``, comma-separated; all by default):

* ``widgets``: each task widget at its tallest (advanced options unfolded, the Compare table shown) in a
  1600x1000 window: ``denoise-widget.png``, ``inpaint-widget.png``, ``sr-widget.png``.
* ``history``: a denoising run scrubbed back through its history and kept (``history.png``), then Compare
  (``compare.png``) and the frames of ``run-stop-scrub.gif`` (Run, the preview, Stop, scrub, Keep).
* ``strip``: before / after, one pair per task, fitted with the defaults (``strip.png``).
* ``curves``: PSNR against wall time of the presets and classic methods, and PSNR against iteration with the
  automatic stop marked, from a fit traced here (``psnr-vs-time.png``, ``psnr-vs-iteration.png``).

Headless: it starts a virtual X server itself when ``pyvirtualdisplay`` is installed (pytest-xvfb brings it),
else run it under ``xvfb-run``. The curves need matplotlib.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


DOCS = Path(__file__).resolve().parents[1] / "docs" / "images"
WINDOW = (1600, 1000)


def wait(app, condition, timeout: float = 900.0) -> None:
    """Process events until ``condition()`` holds."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the run did not get far enough in time")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def open_viewer():
    import napari
    from napari.qt import get_qapp

    app = get_qapp()
    viewer = napari.Viewer(title="napari-dip", show=True)
    viewer.window._qt_window.resize(*WINDOW)
    return app, viewer


def unfold(widget) -> None:
    """Every folded section open and the Compare table shown: the widget at its tallest."""
    from superqt import QCollapsible

    for section in widget.findChildren(QCollapsible):
        section.expand(animate=False)
    if widget.compare is not None:
        widget.compare.table.setVisible(True)


def widgets(args) -> None:
    """Each task widget at its tallest in a 1600x1000 window."""
    for sample, plugin_widget, name in (("noisy", "Denoise", "denoise-widget.png"),
                                        ("text", "Inpaint", "inpaint-widget.png"),
                                        ("low_resolution", "Super-resolution", "sr-widget.png")):
        app, viewer = open_viewer()
        viewer.open_sample("napari-dip", sample)
        _, widget = viewer.window.add_plugin_dock_widget("napari-dip", plugin_widget)
        unfold(widget)
        settle(app, 1.0)
        path = args.out / name
        viewer.screenshot(str(path), canvas_only=False)
        height = widget.minimumSizeHint().height()
        print(f"saved {path} (widget's minimum height {height} px; window {WINDOW[0]}x{WINDOW[1]})")
        viewer.close()


PARTS = {"widgets": widgets}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated among {', '.join(PARTS)}")
    parser.add_argument("--out", type=Path, default=DOCS, help="folder of the pictures (default docs/images)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    display = None
    if not os.environ.get("DISPLAY"):
        from pyvirtualdisplay import Display

        display = Display(visible=False, size=WINDOW, color_depth=24)
        display.start()
    try:
        for part in args.parts.split(","):
            PARTS[part](args)
    finally:
        if display is not None:
            display.stop()


if __name__ == "__main__":
    sys.exit(main())
