"""The documentation's code runs as written.

Every fenced block of README.md and docs/**/*.md is one of:
- a ```python block: executed here, each in a fresh namespace and an empty working folder;
- marked on the line before its fence with `<!-- not run: REASON -->` (the original package
  of a "before" half is not installed, a build command that CI runs anyway, ...);
- a ```cpp block marked `<!-- part of: PATH -->`: each of its lines must appear in PATH, a
  program that the C++ tests build and run;
- a block without a language: printed output or a listing, not code.
Any other block fails the test, so a new example cannot silently go unchecked.

The public functions' docstring examples run as doctests below as well.
"""

import doctest
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\S*)\s*$")
MARK = re.compile(r"^<!--\s*(not run|part of):\s*(.+?)\s*-->\s*$")


def code_blocks():
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m:
                i += 1
                continue
            start, lang = i, m.group(1)
            i += 1
            while i < len(lines) and lines[i].rstrip() != "```":
                i += 1
            prev = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
            mark = MARK.match(prev.strip())
            yield (f"{path.relative_to(ROOT)}:{start + 1}", lang,
                   "\n".join(lines[start + 1:i]), mark.groups() if mark else None)
            i += 1


BLOCKS = list(code_blocks())


def test_blocks_found():
    assert sum(lang == "python" for _, lang, _, _ in BLOCKS) >= 8


@pytest.mark.parametrize("where,lang,code,mark", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_doc_block(where, lang, code, mark, tmp_path, monkeypatch):
    if mark and mark[0] == "not run":
        assert len(mark[1]) >= 10, f"{where}: say why the block is not run"
        return
    if mark and mark[0] == "part of":
        def statements(text):  # code without comments, whitespace collapsed
            return [" ".join(line.split("//")[0].split()) for line in text.splitlines()]
        program = "\n".join(statements((ROOT / mark[1]).read_text(encoding="utf-8")))
        missing = [line for line in statements(code) if line and line not in program]
        assert not missing, f"{where}: lines not in {mark[1]}: {missing}"
        return
    if lang in ("", "text"):
        return
    assert lang == "python", (f"{where}: a ```{lang} block must run (python), or be marked "
                              f"<!-- not run: REASON --> or <!-- part of: PROGRAM -->")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__doc_block__"})


MODULES = ["convnd", "convnd._api", "convnd.numpy_ml", "convnd.mygrad", "convnd.conv2d_numpy",
           "convnd.convolution", "convnd.dask"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE |
                             doctest.ELLIPSIS)
    assert result.failed == 0


def test_public_functions_have_numpydoc_sections():
    import convnd
    import convnd.dask
    public = [(f"convnd.{n}", getattr(convnd, n)) for n in convnd.__all__]
    public += [(f"convnd.dask.{n}", getattr(convnd.dask, n)) for n in ("conv", "conv_transpose")]
    for name, obj in public:
        doc = obj.__doc__ or ""
        sections = ["Examples"]
        if name != "convnd.algorithms":
            sections += ["Parameters", "Raises"]
        if name != "convnd.Plan":
            sections.append("Returns")
        for section in sections:
            assert f"{section}\n" in doc, f"{name}: no '{section}' section"
        assert not re.search(r"(?m)^\s*\{[A-Z_]+\}\s*$", doc), f"{name}: a shared_doc token left"


def test_shared_doc_fills_sections_and_rejects_unknown_tokens():
    from convnd._docs import shared_doc

    def documented():
        """Doc.

        Parameters
        ----------
    {LAYOUT}
        """

    assert "Where the channel axis of the activations is" in shared_doc(documented).__doc__

    def misspelt():
        """Doc.

    {LAYUOT}
        """

    with pytest.raises(KeyError, match="LAYUOT"):
        shared_doc(misspelt)
