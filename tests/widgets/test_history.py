"""The history: snapshots every N iterations in a scrubbable layer, bounded in number; Keep this iteration."""

from __future__ import annotations

import numpy as np
import pytest

from napari_dip._qt.widgets import DenoiseWidget


def test_history_layer_and_keep(dock, run_widget, tiny_image, configure, notes):
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image(), name="src", scale=(0.5, 2.0), translate=(1.0, 3.0))
    viewer.add_image(tiny_image(seed=9), name="clean")
    widget.image.value, widget.reference.value = viewer.layers["src"], viewer.layers["clean"]
    configure(widget, iterations=12, preview_every=2)
    run_widget(widget)
    history = viewer.layers["src [history]"]
    iterations = history.metadata["napari_dip"]["iterations"]
    assert iterations == [2, 4, 6, 8, 10, 12]  # every 2 iterations (12 / 60 rounded up to the preview cadence)
    assert history.data.shape == (13, 32, 32) and history.data.dtype == np.uint8  # the slider counts iterations
    np.testing.assert_allclose(history.scale, (1.0, 0.5, 2.0))
    np.testing.assert_allclose(history.translate, (0.0, 1.0, 3.0))
    assert viewer.dims.axis_labels[0] == "denoise iteration"
    assert not history.visible  # hidden until the user scrubs: the viewer keeps drawing the input
    # The last snapshot is the returned output.
    np.testing.assert_array_equal(history.data[-1], viewer.layers["src [denoised]"].data)
    assert not np.array_equal(history.data[2], history.data[-1])
    assert BEST in widget.plot.markers() and widget.history.best_button.isEnabled()

    viewer.dims.set_current_step(0, 5)  # scrub back to iteration 5: the snapshot of iteration 4
    assert history.visible
    assert widget.history.position.text().startswith("iteration 4")
    widget.history.keep_button.click()
    kept = viewer.layers[-1]
    assert kept.name == "src [denoised, iteration 4 from the history]"
    np.testing.assert_array_equal(kept.data, history.data[4])
    meta = kept.metadata["napari_dip"]
    assert meta["kept_iteration"] == 4 and meta["source"] == "src" and meta["reference"] == "clean"
    np.testing.assert_allclose(kept.scale, (0.5, 2.0))
    np.testing.assert_allclose(kept.translate, (1.0, 3.0))

    best = widget.plot.markers()[BEST]
    widget.history.best_button.click()
    assert viewer.dims.current_step[0] == min(iterations, key=lambda it: abs(it - best))


BEST = "best PSNR"


@pytest.mark.parametrize("iterations, stop_at, reason", [(600, 30, "auto_stop"), (40, None, "completed")])
def test_auto_stop_choice_is_marked_and_kept_in_the_history(dock, run_widget, monkeypatch, tiny_image, configure,
                                                            iterations, stop_at, reason):
    from napari_dip.core.fitting.stopping import MinimumStopper

    def check(self, score, output, iteration):  # the stopper's decision, made quick: choose iteration 20
        if iteration == 20:
            self.best_iteration, self.best_image = iteration, output.detach().float().clone()
        return stop_at is not None and iteration >= stop_at

    monkeypatch.setattr(MinimumStopper, "check", check)
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image((16, 16)), name="src")
    configure(widget, iterations=iterations, preview_every=10)
    widget.fit.auto_stop.value = True
    run_widget(widget)
    meta = viewer.layers["src [denoised]"].metadata["napari_dip"]
    assert meta["stop_reason"] == reason and meta["stopped_at"] == (stop_at or iterations)
    chosen = widget.plot.markers()["auto-stop"]
    assert chosen == 20 and widget.history.targets["auto-stop"] == chosen
    iterations = viewer.layers["src [history]"].metadata["napari_dip"]["iterations"]
    assert chosen in iterations
    widget.history.auto_button.click()
    assert viewer.dims.current_step[0] == chosen and viewer.layers["src [history]"].visible
    # The history's snapshot at the auto-stop's choice is the returned output.
    np.testing.assert_array_equal(viewer.layers["src [history]"].data[int(chosen)], viewer.layers["src [denoised]"].data)


def test_two_widgets_scrub_their_histories_on_sliders_of_their_own(dock, run_widget, tiny_image, configure):
    from napari_dip._qt.widgets import JpegWidget

    viewer, denoise = dock(DenoiseWidget)
    _, jpeg = dock(JpegWidget, viewer)
    viewer.add_image(tiny_image(), name="src")
    for widget in (denoise, jpeg):
        configure(widget, iterations=6, preview_every=2)
        run_widget(widget)
    first, second = denoise.history, jpeg.history
    assert first._axis() != second._axis()
    labels = viewer.dims.axis_labels
    assert labels[first._axis()] == "denoise iteration" and labels[second._axis()] == "jpeg iteration"
    viewer.dims.set_current_step(second._axis(), 2)
    assert first.current() == len(first.snapshots) - 1  # scrubbing one history leaves the other where it was


def test_every_slice_of_an_all_slices_run_keeps_its_history(dock, run_widget, tiny_image, configure):
    from napari_dip.gui.form import SLICE_MODES

    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(np.stack([tiny_image(seed=k) for k in range(3)]), name="stack")
    configure(widget, iterations=6, preview_every=2)
    widget.slices.value = SLICE_MODES[1]
    run_widget(widget)
    history = widget.history
    assert sorted(history.by_slice) == [(0,), (1,), (2,)]
    stack_axis = viewer.dims.ndim - 3
    for k in (0, 2, 1):
        viewer.dims.set_current_step(stack_axis, k)
        assert history._index == (k,)
        layer = viewer.layers["stack [history]"]
        np.testing.assert_array_equal(layer.data[-1][0], viewer.layers["stack [denoised]"].data[k])
