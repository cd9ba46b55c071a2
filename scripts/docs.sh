#!/usr/bin/env bash
# API documentation into build-docs/: the C++ header and the README through Doxygen
# (build-docs/doxygen/html/index.html), the Python package's docstrings and the semantics tables
# through Sphinx (build-docs/sphinx/index.html). Needs `scripts/install-deps.sh --docs` (doxygen,
# Sphinx, MyST). Sphinx imports the package built in $BUILD_DIR/python (default: build) when it
# is there, else documents the .py files with the compiled module mocked. A warning fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
out="build-docs"
missing=()
command -v doxygen >/dev/null || missing+=(doxygen)
/usr/bin/python3 -c "import sphinx" 2>/dev/null || missing+=(python3-sphinx)
/usr/bin/python3 -c "import myst_parser" 2>/dev/null || missing+=(python3-myst-parser)
if [ ${#missing[@]} -gt 0 ]; then
  echo "docs.sh: missing ${missing[*]}: run scripts/install-deps.sh --docs" >&2
  exit 1
fi
rm -rf "$out/doxygen" "$out/sphinx"
mkdir -p "$out"

echo "== doxygen (include/convnd, README) =="
{ cat docs/Doxyfile; echo "WARN_AS_ERROR = FAIL_ON_WARNINGS"; } | doxygen -

echo "== sphinx (python/convnd, semantics) =="
if compgen -G "$build/python/convnd/_core*.so" >/dev/null; then
  export PYTHONPATH="$PWD/$build/python${PYTHONPATH:+:$PYTHONPATH}"
else
  echo "docs.sh: no $build/python/convnd/_core*.so: documenting with the compiled module mocked"
fi
/usr/bin/python3 -m sphinx -W --keep-going -q -b html docs/sphinx "$out/sphinx"
echo "docs.sh: $out/doxygen/html/index.html, $out/sphinx/index.html"
