"""Everything napari, magicgui and Qt in napari-dip.

The widgets are listed in ``napari.yaml`` and imported by napari only when
opened; importing them loads torch (through the engine), importing
``napari_dip`` does not.
"""
