"""deid.recipe.transformer: upstream tokenising and the shape of lines, fields and values."""

from __future__ import annotations

import dataclasses
import os
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from deid.recipe.ast import NO_SPAN
from deid.recipe.parser import get_parser
from deid.recipe.transformer import (
    CURRENT_FILE,
    FieldTransformer,
    RecipeTransformer,
    ValueTransformer,
    line_patterns,
    split_criteria,
    split_criterion,
    upstream_tokens,
    upstream_value,
)

EXAMPLES = int(os.environ.get("DEID_FUZZ_EXAMPLES", "0") or 0) or 200
PIECES = list("abcAZ09 \t\x0c\r#+|'\"%:_,()") + [
    "REMOVE ", "LABEL ", "contains ", "+ ", "|| ", "FIELD ", "missing ", "coordinates ", "FORMAT",
]  # fmt: skip
random_line = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


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


def tree_parser(with_line: bool = False) -> Lark:
    grammar = resources.files("deid.recipe").joinpath("grammar.lark").read_text()
    start = (
        ["recipe", "line", "field_expr", "value"]
        if with_line
        else ["recipe", "field_expr", "value"]
    )
    return Lark(grammar, parser="lalr", start=start, maybe_placeholders=True)


SAMPLE = (
    "FORMAT dicom\n%header\nREMOVE PatientName # c\nfoo bar\n"
    "%filter f\nLABEL x\n  contains Modality CT || missing Rows\n  coordinates all\n"
)


def texts(node: object) -> tuple[object, ...]:
    n = node  # type: ignore[assignment]
    return (n.kind, n.head[0], n.field and n.field[0], n.rest and n.rest[0])  # type: ignore[attr-defined]


def test_recipe_runs_are_single_tokens() -> None:
    tree = tree_parser().parse(SAMPLE, start="recipe")
    assert isinstance(tree, Tree)
    kinds = [(c.data, [t.type for t in c.children]) for c in tree.children]
    assert kinds == [
        ("format_run", ["FORMAT_LINES"]),
        ("section_run", ["SECTION_LINES"]),
        ("action_run", ["ACTION_LINES"]),
        ("unknown_run", ["UNKNOWN_LINES"]),
        ("section_run", ["SECTION_LINES"]),
        ("filter_run", ["FILTER_LINES"]),  # LABEL, criteria and coordinates: one token
    ]


def test_recipe_lines_shape() -> None:
    tree = tree_parser().parse(SAMPLE, start="recipe")
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


def test_line_node_positions() -> None:
    nodes = RecipeTransformer("t").transform(tree_parser().parse(SAMPLE, start="recipe"))
    action = nodes[2]
    assert (action.line, action.col, action.field.offset, action.rest.offset) == (3, 1, 7, 19)
    crit = nodes[6]
    assert (crit.line, crit.col, crit.span.end_col) == (7, 3, 39)
    assert crit.criteria[1][2] == ("Rows", 32)  # offset from the line's text (column 3 + 32)


TREES = tree_parser(with_line=True)


def line_by_line(text: str) -> list[object] | None:
    """Nodes of ``text`` read one line at a time with the ``line`` start symbol (None when a
    line does not parse)."""
    p = TREES
    nodes: list[object] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip(" \t\x0c"):  # blank as the grammar sees it
            continue
        try:
            sub = p.parse(line + "\n", start="line")
        except UnexpectedInput:
            return None
        for node in RecipeTransformer("t").transform(sub):
            node.line = lineno
            node.span = dataclasses.replace(node.span, line=lineno, end_line=lineno)
            nodes.append(node)
    return nodes


def whole(text: str) -> list[object] | None:
    try:
        tree = TREES.parse(text + "\n", start="recipe")
    except UnexpectedInput:
        return None
    nodes = RecipeTransformer("t").transform(tree)
    # the parser's own (inline, tree-less) transformer gives the same nodes
    token = CURRENT_FILE.set("t")
    try:
        assert get_parser().parse(text + "\n", start="recipe") == nodes
    finally:
        CURRENT_FILE.reset(token)
    return nodes  # type: ignore[no-any-return]


def agree(text: str) -> None:
    """Whatever the fast (runs) form accepts, it shapes exactly as the line form does; without
    stray carriage returns both accept the same texts (with them, only the line form may
    accept, which sends the parser to its line-by-line path: slower, same result)."""
    by_line, runs = line_by_line(text), whole(text)
    if runs is not None:
        assert runs == by_line, text
    if "\r" not in text:
        assert (by_line is None) == (runs is None), text


ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "recipes").glob("deid.*")) + sorted(
    (ROOT / "tests" / "data" / "recipes" / "broken").glob("*.dicom")
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_runs_and_single_lines_agree_on_the_corpus(path: Path) -> None:
    text = path.read_text()
    agree(text)
    for line in text.splitlines():  # broken files: each line on its own
        agree("FORMAT dicom\n" + line)


CORNERS = [
    "REMOVE   ",
    "REMOVE # only a comment",
    "REMOVE\tPatientName\t\t# c",
    "REMOVE Patient's Name",
    "REMOVE 'abc",
    "REMOVE abc#x",
    "REMOVE\x0cX",
    "REMOVE X\x0b",
    "  contains Modality CT  \r",
    "contains A#c + contains B",
    "contains A b#c + contains B",
    "missing A + contains\r",
    "contains SOMATOM AS+ || contains Modality CT",
    "contains A+contains B",
    "contains + contains B",
    "+ Manufacturer GE",
    "|| ",
    "missing",
    "LABEL",
    "LABEL   # c",
    "coordinates\t0,0,1,1 # c",
    "CTPcoordinates 1,2,3,4",
    "FORMAT",
    "FORMAT\r",
    "%",
    "%header#c",
    'SPLIT PatientID by="^";minlength=4',
    "FIELD",
    "REMOVEX y",
    "Contains Modality CT",
    "foo\x00bar baz",
    "a\rb",
]


@pytest.mark.parametrize("line", CORNERS)
def test_runs_and_single_lines_agree_on_corner_cases(line: str) -> None:
    agree(line)
    agree(f"{line}\n{line}\n\n  # c\n{line}")  # a run of the same line


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(CORNERS), random_line), max_size=8))
def test_runs_and_single_lines_agree(lines: list[str]) -> None:
    agree("\n".join(lines))


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


def test_line_patterns_cut_parts() -> None:
    pats = line_patterns()
    assert pats["action"].match("REMOVE  PatientName x # c").groups() == (
        "REMOVE  ",
        "PatientName",
        "x # c",
    )
    assert pats["filter"].match("LABEL Dose # c").groups()[:2] == ("LABEL ", "Dose # c")
    assert pats["filter"].match("ctpcoordinates 1,2,3,4").groups()[2:4] == (
        "ctpcoordinates ",
        "1,2,3,4",
    )


def test_split_criteria_keeps_operators_inside_values() -> None:
    parts = split_criteria("contains ManufacturerModelName SOMATOM AS+ || missing Rows", 0)
    assert [p[3] and p[3][0] for p in parts] == ["SOMATOM AS+", None]
    assert parts[1][0] == ("||", 43) and parts[1][1] == ("missing", 46)
    op, filt, fld, val = split_criterion(Token("CRITERION", "+ contains Modality CT ", 0, 1, 5))
    assert (str(op), str(filt), str(fld), str(val), val.column) == (
        "+",
        "contains",
        "Modality",
        "CT",
        25,
    )
