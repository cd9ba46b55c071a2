"""The Examples sections of convnd.ndimage, convnd.signal and convnd.dask.ndimage run as
written and print what they show (doctest)."""

import doctest

import pytest

import convnd.ndimage
import convnd.signal


@pytest.mark.parametrize("module", [convnd.ndimage, convnd.signal])
def test_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_dask_examples():
    pytest.importorskip("dask.array")
    import convnd.dask
    result = doctest.testmod(convnd.dask.ndimage, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
