"""GUI responsiveness while a fit runs: 20 ms timer tick delays, and how long Stop takes.

A 20 ms ``QTimer`` ticks in the GUI thread of a real napari viewer while the
Denoise widget fits an image in its worker thread (previews, plot and history
updates included). A tick's delay is how late it fires. The same is measured
with the viewer idle first. Stop latency is the time from pressing Stop to
the result layer being in the viewer. Prints a markdown table.

    python benchmarks/gui_responsiveness.py [--size 256] [--seconds 10] [--repeats 3]

Needs a display, or ``pyvirtualdisplay`` (brought by pytest-xvfb) to start a virtual one.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

TICK_MS = 20


def _pump(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def _tick_delays(app, seconds: float) -> np.ndarray:
    """Delays (ms) of a 20 ms QTimer's ticks over ``seconds`` of the running event loop."""
    from qtpy.QtCore import QTimer

    stamps: list[float] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    timer.start()
    _pump(app, seconds)
    timer.stop()
    return np.maximum(np.diff(stamps) * 1000 - TICK_MS, 0.0)


def _image(size: int) -> np.ndarray:
    from skimage import data, transform

    clean = transform.resize(data.astronaut(), (size, size), anti_aliasing=True)
    noisy = clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape)
    return (np.clip(noisy, 0, 1) * 255).round().astype(np.uint8)


def _wait(app, condition, timeout: float = 600.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the run did not get far enough in time")
        app.processEvents()
        time.sleep(0.001)


def measure(size: int, seconds: float, repeats: int) -> tuple[dict[str, np.ndarray], list[tuple[float, float]]]:
    import napari
    from napari.qt import get_qapp

    from napari_dip._qt.widgets import DenoiseWidget

    app = get_qapp()
    viewer = napari.Viewer(show=True)
    viewer.add_image(_image(size), name="noisy")
    widget = DenoiseWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.fit.preset.value, widget.fit.device.value, widget.fit.iterations.value = "fast", "cpu", 100_000
    _pump(app, 1.0)
    delays = {"idle viewer": _tick_delays(app, seconds)}
    running, stops = [], []
    for _ in range(repeats):
        widget._on_run()
        _wait(app, lambda: bool(widget.plot.series("loss")[0]))
        running.append(_tick_delays(app, seconds / repeats))
        finished: list[float] = []
        worker_done: list[float] = []
        widget._worker.finished.connect(lambda: worker_done.append(time.perf_counter()))
        widget.run_finished.connect(lambda: finished.append(time.perf_counter()))
        pressed = time.perf_counter()
        widget._on_stop()
        _wait(app, lambda: bool(finished))
        widget.run_finished.disconnect()
        stops.append(((worker_done[0] - pressed) * 1000, (finished[0] - pressed) * 1000))
    delays["during a fit"] = np.concatenate(running)
    viewer.close()
    return delays, stops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="side of the RGB image fitted")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of ticks per condition")
    parser.add_argument("--repeats", type=int, default=3, help="runs started and stopped")
    args = parser.parse_args()
    display = None
    if not os.environ.get("DISPLAY"):
        from pyvirtualdisplay import Display

        display = Display(visible=False, size=(1400, 860), color_depth=24)
        display.start()
    try:
        delays, stops = measure(args.size, args.seconds, args.repeats)
    finally:
        if display is not None:
            display.stop()
    print(f"GUI responsiveness, Denoise widget, fast preset, CPU, {args.size}x{args.size} RGB, "
          f"{os.cpu_count()} cores\n")
    print("| condition | ticks | median delay (ms) | p99 delay (ms) | max delay (ms) |")
    print("|---|---|---|---|---|")
    for name, values in delays.items():
        print(f"| {name} | {len(values)} | {np.median(values):.1f} | {np.percentile(values, 99):.1f} "
              f"| {values.max():.1f} |")
    print("\n| Stop latency, ms (median / max of %d stops) | worker thread ended | result layer shown |" % len(stops))
    print("|---|---|---|")
    worker, shown = np.array(stops).T
    print(f"| Denoise | {np.median(worker):.0f} / {worker.max():.0f} | {np.median(shown):.0f} / {shown.max():.0f} |")


if __name__ == "__main__":
    main()
