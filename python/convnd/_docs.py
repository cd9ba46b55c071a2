"""Docstring sections that several public functions share, written once.

The NumPy API's functions take the same geometry and run keywords, and raise the same
errors; their docstrings name a section by a token such as ``{STRIDE_DILATION}`` on a line of
its own, and `shared_doc` puts the text in when the module is imported, so `help()`, the
doctests and an editor see the whole docstring. The texts are indented for a top-level
function or class docstring (parameters at 4 spaces, their descriptions at 8).
"""

_SECTIONS = {
    "STRIDE_DILATION": """\
    stride, dilation : int or sequence of ints, optional
        One value for every spatial axis or one per axis; dilation is 1-based (1 = dense).""",
    "PADDING": """\
    padding : int, sequence, str, optional
        An int, one int per axis, one (lo, hi) pair per axis, or "valid", "full", "causal",
        "same" or "same:POLICY" (POLICY: torch, tf, tf_lower, numpy_ml, scipy).""",
    "GROUPS": """\
    groups : int, optional
        Channel groups; groups == C is a depthwise convolution.""",
    "PADDING_MODE": """\
    padding_mode : str, optional
        zeros, reflect, symmetric, replicate or circular (numpy.pad and scipy.ndimage
        synonyms accepted); one mode for every axis.""",
    "SAME_POLICY": """\
    same_policy : str, optional
        How "same" splits its padding; default torch. Give it here or in the padding string,
        not differently in both.""",
    "LAYOUT": """\
    layout : {"channels_first", "channels_last"}, optional
        Where the channel axis of the activations is: (N, C, S..) or (N, S.., C).""",
    "RUN": """\
    algorithm : str, optional
        Force one of `algorithms()`; by default dispatch picks the fastest that accepts.
    threads : int, optional
        0 (default): OpenMP's count (all cores, or OMP_NUM_THREADS); results are bitwise the
        same for any count.
    precision : {"standard", "highest"}, optional
        "highest" keeps to direct summation (no Winograd).""",
    "SHAPES": """\
    input_shape, weight_shape : sequence of ints
        Shapes of x and w, as conv (or conv_transpose with transposed=True) takes them.
    stride, padding, dilation, groups, same_policy, layout
        As for conv.
    transposed : bool, optional
    output_padding, output_size
        As for conv_transpose.""",
    "RAISES": """\
    Raises
    ------
    ValueError
        A bad value: shapes that do not fit together, a negative padding, a stride of 0, ...
        The message names the argument, the axis and the rule.
    TypeError
        A dtype other than float32/float64, or an argument of the wrong type.
    MemoryError
        Memory the core needed (a workspace, packed weights) could not be allocated; the
        message says for what and how many bytes.""",
}
# The geometry keywords of conv and its gradients, in their documented order.
_SECTIONS["GEOMETRY"] = "\n".join(
    _SECTIONS[k]
    for k in ("STRIDE_DILATION", "PADDING", "GROUPS", "PADDING_MODE", "SAME_POLICY", "LAYOUT"))


def shared_doc(obj):
    """Replaces each ``{NAME}`` line of obj's docstring by the section NAME; an unknown name
    raises at import, so a misspelt token cannot reach the documentation."""
    lines = []
    for line in obj.__doc__.split("\n"):
        token = line.strip()
        if token.startswith("{") and token.endswith("}") and token[1:-1].isupper():
            if token[1:-1] not in _SECTIONS:
                raise KeyError(f"shared_doc: no section {token} (in {obj.__qualname__})")
            lines.append(_SECTIONS[token[1:-1]])
        else:
            lines.append(line)
    obj.__doc__ = "\n".join(lines)
    return obj
