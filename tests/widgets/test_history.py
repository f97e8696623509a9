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
    assert history.data.shape == (6, 32, 32) and history.data.dtype == np.uint8
    np.testing.assert_allclose(history.scale, (1.0, 0.5, 2.0))
    np.testing.assert_allclose(history.translate, (0.0, 1.0, 3.0))
    assert viewer.dims.axis_labels[0] == "iteration"
    # The last snapshot is the returned output.
    np.testing.assert_array_equal(history.data[-1], viewer.layers["src [denoised]"].data)
    assert not np.array_equal(history.data[0], history.data[-1])
    assert BEST in widget.plot.markers() and widget.history.best_button.isEnabled()

    viewer.dims.set_current_step(0, 1)  # scrub back to iteration 4
    assert widget.history.position.text().startswith("iteration 4")
    widget.history.keep_button.click()
    kept = viewer.layers[-1]
    assert kept.name.startswith("src [denoised]") and kept is not viewer.layers["src [denoised]"]
    np.testing.assert_array_equal(kept.data, history.data[1])
    meta = kept.metadata["napari_dip"]
    assert meta["kept_iteration"] == 4 and meta["source"] == "src" and meta["reference"] == "clean"
    np.testing.assert_allclose(kept.scale, (0.5, 2.0))
    np.testing.assert_allclose(kept.translate, (1.0, 3.0))

    best = widget.plot.markers()[BEST]
    widget.history.best_button.click()
    assert history.metadata["napari_dip"]["iterations"][viewer.dims.current_step[0]] == min(
        iterations, key=lambda it: abs(it - best))


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
    position = iterations.index(chosen)
    assert viewer.dims.current_step[0] == position
    # The history's snapshot at the auto-stop's choice is the returned output.
    np.testing.assert_array_equal(viewer.layers["src [history]"].data[position], viewer.layers["src [denoised]"].data)
