"""The napari logic of the widgets that needs no Qt: runs, their messages, layers, masks, history."""
