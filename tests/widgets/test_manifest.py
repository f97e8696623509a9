"""The manifest validates, napari finds every contribution, samples open, and imports stay lean."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import npe2
import pytest

import napari_dip

MANIFEST = Path(napari_dip.__file__).parent / "napari.yaml"
WIDGETS = ["Denoise", "JPEG / blind restore", "Super-resolution", "Inpaint", "Enhance details", "Flash / no-flash",
           "Prior explorer"]
SAMPLES = {
    "noisy": ["noisy astronaut", "astronaut (clean)"],
    "text": ["cat with text", "cat with text mask"],
    "low_resolution": ["small cat"],
    "microscopy": ["noisy cells (3D)", "cells (clean)"],
}


def test_manifest_validates():
    manifest = npe2.PluginManifest.from_file(MANIFEST)
    assert manifest.name == "napari-dip"
    assert [w.display_name for w in manifest.contributions.widgets] == WIDGETS
    assert sorted(s.key for s in manifest.contributions.sample_data) == sorted(SAMPLES)


def test_plugin_manager_finds_every_contribution():
    pm = npe2.PluginManager.instance()
    pm.discover()
    assert pm.get_manifest("napari-dip").name == "napari-dip"
    widgets = [w.display_name for w in pm.iter_widgets() if w.command.startswith("napari-dip.")]
    assert widgets == WIDGETS
    samples = dict(pm.iter_sample_data())["napari-dip"]
    assert sorted(s.key for s in samples) == sorted(SAMPLES)
    for command in pm.get_manifest("napari-dip").contributions.commands:
        module, name = command.python_name.split(":")
        assert callable(getattr(importlib.import_module(module), name))


@pytest.mark.parametrize("name", WIDGETS)
def test_each_widget_opens_from_napari(make_napari_viewer, name):
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-dip", name)
    assert widget is not None
    assert hasattr(widget, "reset_choices")


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_each_sample_opens(make_napari_viewer, key):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-dip", key)
    assert [layer.name for layer in viewer.layers] == SAMPLES[key]
    assert all(max(layer.data.shape[:2]) <= 192 for layer in viewer.layers)


def test_imports_stay_lean():
    code = (
        "import sys, napari_dip, napari_dip._sample_data;"
        "heavy = [m for m in ('torch', 'qtpy', 'PyQt5', 'PyQt6', 'napari', 'magicgui') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_fit_through_napari_plugin_path(make_napari_viewer, qtbot, tiny_image, configure, recwarn):
    """napari hands plugin widgets a public-only proxy of the viewer: a run must use only public API."""
    viewer = make_napari_viewer()
    viewer.add_image(tiny_image(), name="src")
    _, widget = viewer.window.add_plugin_dock_widget("napari-dip", "Denoise")
    configure(widget, iterations=5)
    with qtbot.waitSignal(widget.run_finished, timeout=90_000):
        widget._on_run()
    assert "src [denoised]" in viewer.layers
    assert not [w for w in recwarn if "private" in str(w.message).lower()]
