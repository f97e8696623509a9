"""The Denoise widget offers photon (Poisson) noise and records the noise model on its output."""

from __future__ import annotations

import numpy as np

from napari_dip._qt.widgets import DenoiseWidget


def test_denoise_widget_runs_with_poisson_noise(dock, run_widget, configure):
    viewer, widget = dock(DenoiseWidget)
    rng = np.random.default_rng(0)
    photons = 5 + 40 * np.outer(np.hanning(32), np.hanning(32))
    viewer.add_image((3 * rng.poisson(photons) + 100).astype(np.uint16), name="cells")
    assert widget.noise.value == "gaussian"
    widget.noise.value = "poisson"
    configure(widget, iterations=5)
    run_widget(widget)
    meta = viewer.layers["cells [denoised]"].metadata["napari_dip"]
    assert meta["noise"] == "poisson" and meta["gain"][0] > 0
