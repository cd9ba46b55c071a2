# Sphinx pages for the Python package: its docstrings (autodoc) and the semantics tables, which
# are included from the README (one source). Built by scripts/docs.sh into build-docs/sphinx.
# The package is imported from $PYTHONPATH when scripts/docs.sh finds a build; without one, the
# compiled module convnd._core is mocked and the docstrings of the .py files remain.
import importlib
import importlib.util
import os
import sys

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if importlib.util.find_spec("convnd") is None:
    sys.path.insert(0, os.path.join(root, "python"))
try:
    importlib.import_module("convnd._core")
except ImportError:
    autodoc_mock_imports = ["convnd._core"]

project = "convnd"
author = "the convnd authors"
extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
html_theme = "alabaster"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
# semantics.md includes the README's section, whose headings start at '###'.
suppress_warnings = ["myst.header"]


def _as_written(app, what, name, obj, options, lines):
    # The docstrings are plain text written for help() (aligned columns, indented examples),
    # not reStructuredText: show each one as written, in a literal block.
    if lines:
        lines[:] = ["::", ""] + ["    " + line for line in lines] + [""]


def setup(app):
    app.connect("autodoc-process-docstring", _as_written)
