"""Make the pictures of the documentation (docs/images/) from real runs: a napari window under a virtual display
for the screenshots, the engine's Python API for the before / after strip and for the curves (fits traced here).

Parts (``--parts``, comma-separated; all by default):

* ``widgets``: each task widget at its tallest (advanced options unfolded, the Compare table shown) in a
  1600x1000 window: ``denoise-widget.png``, ``inpaint-widget.png``, ``sr-widget.png``.
* ``history``: the "noisy" sample (the astronaut's face, 128x128, sigma 25/255) in the Denoise widget with
  ``astronaut (clean)`` as the reference, run with the default settings (preset auto, which picks "fast" here) to
  its end (the automatic stop, or all 1800 iterations), then scrubbed to the best-PSNR iteration and kept:
  ``history.png`` (the input beside the history layer, its iteration slider under the canvas). Then Compare:
  ``compare.png`` (the input, the clean image, the DIP result and the classic methods in napari's grid, the
  PSNR / SSIM table in the widget). The frames of the run (Run, the preview at a few iterations, the end of the
  run, the slider dragged back, Go to best PSNR, Keep) make ``run-stop-scrub.gif`` (800 px wide, one second a
  frame, a caption under each).
* ``strip``: before / after, one pair per task, fitted through the Python API with the defaults except the number
  of iterations and one CPU thread (``strip.png``). Caption: "Denoising (astronaut's face, 128x128, Gaussian noise
  sigma 25/255; 800 iterations), JPEG restoration (coffee cup, 128x128, JPEG quality 10; 800 iterations),
  super-resolution x4 (cat's face, 64x64 to 256x256; 500 iterations) and inpainting of painted strokes (astronaut,
  128x128, kind "text"; 400 iterations), with napari-dip's defaults otherwise (preset auto), from skimage.data
  images; about 7 minutes in all on one CPU core." (``STRIP_ITERATIONS``; 128x128 and 64x64 images are drawn
  2 and 4 times larger, pixels as squares.)
* ``curves``: one image, the cat's face from skimage.data at 128x128 with Gaussian noise of sigma 25/255, one CPU
  thread. ``psnr-vs-iteration.png``: PSNR of the output and of its moving average (EMA) against the iteration for
  the preset "fast" (automatic stop on, the clean image as the reference), the iteration it stopped at and the
  PSNR of the picture it returned marked. ``psnr-vs-time.png``: PSNR of the EMA against the fit's seconds (from the
  callback's Progress records) for the presets "sure", "fast" and "paper" (capped by ``--paper-iterations``,
  default 600), and a point per classic method of the Compare button (non-local means, total variation, wavelet,
  BM3D when it imports) at its run time.

Headless: it starts a virtual X server itself when ``pyvirtualdisplay`` is installed (pytest-xvfb brings it),
else run it under ``xvfb-run``. The curves need matplotlib (``pip install matplotlib``; not a dependency
of the package).
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
    """Process events for ``seconds`` (redraws, the worker's messages)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def open_viewer():
    """The Qt application and a shown napari viewer of the WINDOW size."""
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


# -- history ------------------------------------------------------------------------------------------------

#: Iterations at which the GIF grabs the preview during the run.
FRAME_ITERATIONS = (20, 60, 150, 300, 500, 800, 1200)


def grab(viewer, caption: str) -> tuple[str, object]:
    """The whole window (RGB array), the grid's tiles framed anew, with the caption the GIF writes under it."""
    viewer.reset_view()
    return caption, viewer.screenshot(canvas_only=False, flash=False)[..., :3]


def quiet(app) -> None:
    """Close napari's notifications for a still screenshot (they fade only from an active window, which a virtual
    display without a window manager never has)."""
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    for note in list(NapariQtNotification._instances):
        note.close()
    settle(app, 1.0)


def show_in_dock(app, widget, part) -> None:
    """Scroll the widget's dock so that ``part`` (the history panel, the Compare table) is in view."""
    from qtpy.QtWidgets import QScrollArea

    widget.findChild(QScrollArea).ensureWidgetVisible(part)
    settle(app, 0.3)


def dock_denoise(app, viewer):
    """The "noisy" sample and the Denoise widget, the clean image (when the sample has one) as its reference."""
    viewer.open_sample("napari-dip", "noisy")
    _, widget = viewer.window.add_plugin_dock_widget("napari-dip", "Denoise")
    widget.image.value = viewer.layers["noisy astronaut"]
    if "astronaut (clean)" in viewer.layers:
        widget.reference.value = viewer.layers["astronaut (clean)"]
    viewer.canvas.grid.enabled = True  # the input beside the preview (hidden layers take no tile)
    settle(app, 1.0)
    return widget


def current_iteration(widget) -> int:
    """The last iteration the widget's plot has drawn (0 before the first)."""
    iterations, _ = widget.plot.series("loss")
    return int(iterations[-1]) if iterations else 0


def run_to_end(app, viewer, widget, frames: list) -> None:
    """Press Run with the default settings and follow the fit to its end, grabbing frames of the preview."""
    widget.run_button.click()
    settle(app, 1.0)
    frames.append(grab(viewer, "Run: the fit starts from the noisy image"))
    for target in FRAME_ITERATIONS:
        wait(app, lambda target=target: widget._worker is None or current_iteration(widget) >= target, 1800)
        if widget._worker is None:
            break
        settle(app, 0.3)
        frames.append(grab(viewer, f"the preview sharpens: iteration {current_iteration(widget)}"))
    wait(app, lambda: widget._worker is None, 1800)
    settle(app, 1.0)
    stop = widget.history.targets.get("auto-stop")
    end = f"stopped by itself (auto-stop keeps iteration {stop})" if stop else "the run ends (all its iterations)"
    frames.append(grab(viewer, f"{end}; the output layer is added"))


def scrub_and_keep(app, viewer, widget, frames: list) -> None:
    """Drag the history's iteration slider back, jump to the best PSNR and keep that iteration."""
    history = widget.history
    widget.last_outputs[-1].visible = False  # the input beside the history
    show_in_dock(app, widget, history)
    axis = viewer.dims.ndim - history.layer.ndim
    iterations = list(history.snapshots.iterations)
    for position in (len(iterations) * 2 // 3, len(iterations) // 8):
        viewer.dims.set_current_step(axis, iterations[position])  # as a drag of the slider: the layer shows
        settle(app, 0.5)
        frames.append(grab(viewer, f"scrub the history back: iteration {iterations[position]}"))
    history.best_button.click()
    settle(app, 0.5)
    frames.append(grab(viewer, f"Go to best PSNR: iteration {iterations[history.current()]}"))
    history.keep_button.click()
    settle(app, 0.5)


def history(args) -> None:
    """A run of the Denoise widget to its end, scrubbed to the best PSNR and kept, then Compare; and the GIF."""
    app, viewer = open_viewer()
    widget = dock_denoise(app, viewer)
    frames: list = []
    run_to_end(app, viewer, widget, frames)
    scrub_and_keep(app, viewer, widget, frames)
    kept = widget.history.kept
    for layer in kept:
        layer.visible = False
    viewer.layers.selection.active = widget.history.layer
    quiet(app)
    viewer.screenshot(str(args.out / "history.png"), canvas_only=False)
    print(f"saved {args.out / 'history.png'}")
    widget.history.layer.visible = False
    for layer in kept:
        layer.visible = True
    viewer.layers.selection.active = kept[-1]
    settle(app, 0.5)
    frames.append(grab(viewer, f"Keep this iteration: a new layer, {kept[-1].name}"))
    write_gif(frames, args.out / "run-stop-scrub.gif")
    compare(app, viewer, widget, args.out / "compare.png")
    viewer.close()


def compare(app, viewer, widget, path: Path) -> None:
    """Press Compare: the classic methods in the grid beside the input, the clean image and the DIP result."""
    for layer in (widget.history.layer, *widget.history.kept):
        layer.visible = False
    for layer in (viewer.layers["astronaut (clean)"], widget.last_outputs[-1]):
        layer.visible = True
    panel = widget.compare
    panel.button.click()
    wait(app, lambda: panel._worker is None and bool(panel.layers))
    show_in_dock(app, widget, panel.table)
    quiet(app)
    viewer.screenshot(str(path), canvas_only=False)
    print(f"saved {path} ({', '.join(f'{s.name} {s.psnr:.2f} dB' for s in panel.scores)})")


def write_gif(frames: list, path: Path, width: int = 800) -> None:
    """The frames scaled to ``width`` pixels, each with its caption underneath, one second each (the last 3 s)."""
    import imageio.v3 as iio
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=16)
    shown = []
    for caption, frame in frames:
        image = Image.fromarray(np.ascontiguousarray(frame))
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        canvas = Image.new("RGB", (width, image.height + 28), (38, 41, 48))
        canvas.paste(image, (0, 0))
        ImageDraw.Draw(canvas).text((10, image.height + 5), caption, fill=(240, 240, 240), font=font)
        shown.append(np.asarray(canvas))
    durations = [1000] * (len(shown) - 1) + [3000]
    iio.imwrite(path, shown, extension=".gif", duration=durations, loop=0)
    print(f"saved {path} ({len(shown)} frames, {path.stat().st_size / 2**20:.1f} MiB)")


# -- strip --------------------------------------------------------------------------------------------------

#: Iterations of each fit of the strip (the defaults otherwise): the whole strip in about 7 minutes on one core.
STRIP_ITERATIONS = {"denoise": 800, "jpeg": 800, "super_resolve": 500, "inpaint": 400}
TILE = 256


def resized(image, side: int):
    """``image`` (H, W, 3 uint8) resized to ``side`` x ``side`` with anti-aliasing."""
    import numpy as np
    from skimage.transform import resize

    return (resize(image, (side, side), anti_aliasing=True) * 255).round().astype(np.uint8)


def jpeg(image, quality: int = 10):
    """``image`` saved as a JPEG of ``quality`` and read back."""
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def strokes(side: int):
    """A boolean mask of a few brush strokes over a ``side`` x ``side`` image."""
    import numpy as np
    from PIL import Image, ImageDraw

    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    for line in (((10, 20), (60, 45), (118, 30)), ((15, 100), (70, 80), (110, 112)), ((40, 8), (88, 120))):
        draw.line([(x * side // 128, y * side // 128) for x, y in line], fill=1, width=max(3, side // 32))
    return np.asarray(mask, dtype=bool)


def strip_inputs() -> list[tuple[str, str, tuple, dict]]:
    """Per task: (label, napari_dip function, positional inputs, keywords), degraded from skimage.data images."""
    import numpy as np
    from skimage import data

    face = resized(data.astronaut()[20:276, 120:376], 128)
    noisy = np.clip(face + np.random.default_rng(0).normal(0, 25, face.shape), 0, 255).round().astype(np.uint8)
    cup = resized(data.coffee()[0:400, 100:500], 128)
    cat = resized(data.chelsea()[0:300, 60:360], 64)
    scene, mask = resized(data.astronaut(), 128), strokes(128)
    painted = scene.copy()
    painted[mask] = 255
    return [("denoising, sigma 25/255", "denoise", (noisy,), {}),
            ("JPEG, quality 10", "restore_jpeg", (jpeg(cup),), {}),
            ("super-resolution x4", "super_resolve", (cat,), {"factor": 4}),
            ("inpainting strokes", "inpaint", (painted, mask), {"kind": "text"})]


def strip_pairs() -> list[tuple[str, object, object]]:
    """(label, before, after) per task, each fitted with the engine's defaults but STRIP_ITERATIONS."""
    import napari_dip

    pairs = []
    for label, name, inputs, kwargs in strip_inputs():
        iterations = STRIP_ITERATIONS[name.replace("restore_", "")]
        start = time.perf_counter()
        after = getattr(napari_dip, name)(*inputs, iterations=iterations, threads=1, **kwargs)
        print(f"  {name}: {iterations} iterations in {time.perf_counter() - start:.0f} s")
        pairs.append((label, inputs[0], after))
    return pairs


def compose_strip(pairs: list, path: Path) -> None:
    """Before (top row) and after (bottom row), one column per task, a label above each column."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=17)
    gap, left, top = 12, 70, 34
    sheet = Image.new("RGB", (left + len(pairs) * (TILE + gap), top + 2 * (TILE + gap)), "white")
    draw = ImageDraw.Draw(sheet)
    for row, word in enumerate(("before", "after")):
        draw.text((8, top + row * (TILE + gap) + TILE // 2 - 9), word, fill="black", font=font)
    for column, (label, before, after) in enumerate(pairs):
        x = left + column * (TILE + gap)
        draw.text((x + TILE // 2, top // 2), label, fill="black", font=font, anchor="mm")
        for row, image in enumerate((before, after)):
            tile = Image.fromarray(image).resize((TILE, TILE), Image.NEAREST)
            sheet.paste(tile, (x, top + row * (TILE + gap)))
    sheet.save(path, optimize=True)


def strip(args) -> None:
    """One before / after pair per task, fitted through the Python API (``strip.png``)."""
    compose_strip(strip_pairs(), args.out / "strip.png")
    print(f"saved {args.out / 'strip.png'}")


# -- curves -------------------------------------------------------------------------------------------------

def noisy_crop(seed: int = 0):
    """The curves' image: the cat's face (skimage's chelsea) at 128x128, clean and with noise of sigma 25/255."""
    import numpy as np
    from skimage import data
    from skimage.transform import resize

    clean = (resize(data.chelsea()[0:300, 60:360], (128, 128), anti_aliasing=True) * 255).round().astype(np.uint8)
    noise = np.random.default_rng(seed).normal(0, 25, clean.shape)
    return np.clip(clean + noise, 0, 255).round().astype(np.uint8), clean


def traced_fit(noisy, clean, preset: str, **kwargs):
    """Denoise with ``preset`` and a reference; returns (elapsed seconds, PSNR of the EMA output, history, output)."""
    import napari_dip

    seconds, psnr = [], []

    def follow(record) -> None:
        if record.psnr_ema is not None:
            seconds.append(record.elapsed)
            psnr.append(record.psnr_ema)

    start = time.perf_counter()
    output, history = napari_dip.denoise(noisy, preset=preset, reference=clean, callback=follow,
                                         return_history=True, **kwargs)
    print(f"  {preset}: {history.stop_iteration} iterations ({history.stop_reason}) in "
          f"{time.perf_counter() - start:.0f} s")
    return seconds, psnr, history, output


def classic_scores(noisy, clean) -> list[tuple[str, float, float]]:
    """(method, seconds, PSNR) of each classic denoiser the Compare button runs (BM3D when it imports)."""
    from napari_dip.core.extras.classic import methods_for, run_classic, score

    rows = []
    for method in methods_for("denoise"):
        start = time.perf_counter()
        output = run_classic(method, noisy, channel_axis=-1)
        seconds = time.perf_counter() - start
        rows.append((method, seconds, score(method, output, clean, channel_axis=-1).psnr))
    return rows


def plot_iterations(history, returned: float, path: Path) -> None:
    """PSNR of the output and of its EMA against the iteration, the automatic stop marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.plot(history.checked, history.psnr, color="0.6", lw=1, label="output at each iteration")
    ax.plot(history.checked, history.psnr_ema, color="tab:blue", lw=2, label="moving average (EMA) of the outputs")
    ax.axvline(history.stop_iteration, color="tab:red", ls="--",
               label=f"automatic stop (iteration {history.stop_iteration})")
    ax.axhline(returned, color="tab:green", ls=":", label=f"picture returned: {returned:.2f} dB")
    ax.set(xlabel="iteration", ylabel="PSNR against the clean image (dB)",
           title='Denoising a 128x128 photo (sigma 25/255), preset "fast"')
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_times(traces: dict, classics: list, path: Path) -> None:
    """PSNR against wall seconds for each preset's fit, and one point per classic method."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for (name, (seconds, psnr)), color in zip(traces.items(), ("tab:green", "tab:blue", "tab:orange"), strict=False):
        ax.plot(seconds, psnr, color=color, lw=2, label=f"DIP, preset {name}")
        ax.plot(seconds[-1:], psnr[-1:], "o", color=color)
    for (method, seconds, psnr), marker in zip(classics, "sDv^", strict=False):
        ax.axhline(psnr, color="0.5", lw=0.8, ls=":")
        ax.plot([seconds], [psnr], marker, color="black", label=f"{method} ({seconds:.2g} s)")
    ax.set_xscale("log")
    ax.set(xlabel="seconds (log scale; the DIP fits on 1 CPU thread)", ylabel="PSNR against the clean image (dB)",
           title="Denoising a 128x128 photo (sigma 25/255)")
    values = [value for _, psnr in traces.values() for value in psnr] + [c[2] for c in classics]
    ax.set_ylim(min(c[2] for c in classics) - 5.0 if classics else min(values), max(values) + 0.5)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def curves(args) -> None:
    """PSNR against iteration (preset "fast", automatic stop marked) and against time (presets, classic methods)."""
    from napari_dip.core.extras.classic import score

    noisy, clean = noisy_crop()
    traces = {}
    runs = (("sure", {}), ("fast", {"auto_stop": True}), ("paper", {"iterations": args.paper_iterations}))
    for preset, extra in runs:
        seconds, psnr, fit_history, output = traced_fit(noisy, clean, preset, threads=1, **extra)
        capped = f" (its first {args.paper_iterations} iterations)" if preset == "paper" else ""
        traces[f'"{preset}"{capped}'] = (seconds, psnr)
        if preset == "fast":
            returned = score("fast", output, clean, channel_axis=-1).psnr
            plot_iterations(fit_history, returned, args.out / "psnr-vs-iteration.png")
            print(f"saved {args.out / 'psnr-vs-iteration.png'}")
    classics = classic_scores(noisy, clean)
    print("  classic:", ", ".join(f"{m} {p:.2f} dB in {s:.2f} s" for m, s, p in classics))
    plot_times(traces, classics, args.out / "psnr-vs-time.png")
    print(f"saved {args.out / 'psnr-vs-time.png'}")


PARTS = {"widgets": widgets, "history": history, "strip": strip, "curves": curves}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated among {', '.join(PARTS)}")
    parser.add_argument("--out", type=Path, default=DOCS, help="folder of the pictures (default docs/images)")
    parser.add_argument("--paper-iterations", type=int, default=600,
                        help="cap of the paper preset's fit in psnr-vs-time.png (default 600)")
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
