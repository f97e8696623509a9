"""``python -m napari_dip.cli``: the ``napari-dip`` command."""

import sys

from napari_dip.cli import main

sys.exit(main())
