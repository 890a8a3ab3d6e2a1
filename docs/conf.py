"""Sphinx configuration: the API reference, generated from the docstrings
(``python -m sphinx -W -b html docs docs/_build``, as .ci/run does)."""

import websocket

project = "websocket-fast"
author = "The websocket-fast developers"
release = version = websocket.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.intersphinx"]
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpicky = False
html_theme = "alabaster"
exclude_patterns = ["_build"]
