"""MkDocs hook: show the docstrings' Sphinx cross-reference roles as plain code in the API reference.

The numpy-style docstrings name other objects as ``:class:`~napari_dip.core.fitting.records.Progress```.
mkdocstrings renders the role's text literally (``:class:<code>~napari_dip...Progress</code>``); this hook drops the
role and, for a ``~`` reference, keeps only the last name, as Sphinx would show it.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:func|class|mod|data|meth|attr|obj|exc):<code>(~?)([\w.]+)</code>")


def _plain(match: re.Match) -> str:
    tilde, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if tilde else name}</code>"


def on_page_content(html: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs' hook signature
    """Rewrite the roles of one page's HTML."""
    return _ROLE.sub(_plain, html) if ":<code>" in html else html
