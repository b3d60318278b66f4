"""deid.recipe.transformer: upstream tokenising and the shape of lines, fields and values."""

from __future__ import annotations

from importlib import resources

from lark import Lark, Tree

from deid.recipe.ast import NO_SPAN
from deid.recipe.parser import get_parser
from deid.recipe.transformer import (
    FieldTransformer,
    RecipeTransformer,
    ValueTransformer,
    upstream_tokens,
    upstream_value,
)


def test_upstream_tokens_keep_quoted_runs() -> None:
    assert upstream_tokens('REMOVE (0033,"MITRA OBJECT 1.0",1E) x') == [
        "REMOVE",
        '(0033,"MITRA OBJECT 1.0",1E)',
        "x",
    ]
    assert upstream_tokens("a  'b  c'  d") == ["a", "'b  c'", "d"]


def test_upstream_value_joins_and_cuts() -> None:
    assert upstream_value("John    Doe") == "John Doe"
    assert upstream_value("John # comment") == "John "
    assert upstream_value('"a  b"') == '"a  b"'
    assert upstream_value("# only a comment") == ""


def tree_parser() -> Lark:
    grammar = resources.files("deid.recipe").joinpath("grammar.lark").read_text()
    return Lark(
        grammar, parser="lalr", start=["recipe", "field_expr", "value"], maybe_placeholders=True
    )


def test_recipe_lines_shape() -> None:
    tree = tree_parser().parse(
        "FORMAT dicom\n%header\nREMOVE PatientName # c\nfoo bar\n"
        "%filter f\nLABEL x\n  contains Modality CT || missing Rows\n  coordinates all\n",
        start="recipe",
    )
    assert isinstance(tree, Tree)
    nodes = RecipeTransformer("t").transform(tree)
    assert {n.span.file for n in nodes} == {"t"}
    assert [n.kind for n in nodes] == [
        "format", "section", "action", "unknown", "section", "label", "criteria", "coord",
    ]  # fmt: skip
    action = nodes[2]
    assert (str(action.head), str(action.field), str(action.rest)) == (
        "REMOVE",
        "PatientName",
        "# c",
    )
    crit = nodes[6].criteria
    assert [(None if o is None else str(o), str(f), str(fl), v if v is None else str(v))
            for o, f, fl, v in crit] == [
        (None, "contains", "Modality", "CT"), ("||", "missing", "Rows", None)
    ]  # fmt: skip


def test_field_and_value_transformers() -> None:
    p = get_parser()
    fe = FieldTransformer("(50xx,0010)", NO_SPAN).transform(
        p.parse("(50xx,0010)", start="field_expr")
    )
    assert (fe.kind, fe.tag, fe.mask) == ("tag_mask", 0x50000010, 0xFF00FFFF)
    bad = FieldTransformer('(0011,"x",10', NO_SPAN).transform(
        p.parse('(0011,"x",10', start="field_expr")
    )
    assert bad.kind == "invalid"  # shaped as a problem, never raised
    v = ValueTransformer("deid_func:f a=1 b", NO_SPAN).transform(
        p.parse("deid_func:f a=1 b", start="value")
    )
    assert v.args == (("a", "1"), ("b", "\x00"))


def test_inline_parser_uses_the_current_file() -> None:
    from deid.recipe.transformer import CURRENT_FILE

    token = CURRENT_FILE.set("inline.dicom")
    try:
        nodes = get_parser().parse("FORMAT dicom\n", start="recipe")
    finally:
        CURRENT_FILE.reset(token)
    assert nodes[0].kind == "format" and nodes[0].span.file == "inline.dicom"
