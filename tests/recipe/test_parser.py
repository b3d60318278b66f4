"""deid.recipe.parser: parse_recipe, diagnostics, sub-grammars, loading and stacking."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deid.errors import DeidError, RecipeError
from deid.recipe import (
    load_recipe,
    parse_field_expr,
    parse_recipe,
    parse_recipe_with_diagnostics,
    parse_value,
    stack,
)
from deid.recipe.ast import Span
from deid.recipe.parser import get_parser, read_recipe_source

HEAD = "FORMAT dicom\n%header\n"


def codes(text: str, **kw: object) -> list[str]:
    _, diags = parse_recipe_with_diagnostics(text, "r.dicom", **kw)  # type: ignore[arg-type]
    return [d.code for d in diags]


def test_import_does_not_build_the_parser() -> None:
    code = "import deid.recipe, deid.recipe.parser as p; print(p._PARSER is None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_parser_is_built_once() -> None:
    assert get_parser() is get_parser()


def test_actions_and_values() -> None:
    r = parse_recipe(
        HEAD
        + "ADD PatientIdentityRemoved YES\n"
        + 'REPLACE PatientName "Doe  John"\n'
        + "REPLACE PatientID var:pid\n"
        + "REPLACE SOPInstanceUID deid_func:pydicom_uuid prefix=1.2.3. stable_remapping=false\n"
        + "REMOVE PatientAddress func:is_private\n"
        + "JITTER StudyDate -3\n"
        + "BLANK   PatientComments\n"
        + "KEEP Modality\n"
    )
    acts = [(a.action, a.field.text, a.value.kind if a.value else None) for a in r.header]
    assert acts == [
        ("ADD", "PatientIdentityRemoved", "literal"),
        ("REPLACE", "PatientName", "literal"),
        ("REPLACE", "PatientID", "var"),
        ("REPLACE", "SOPInstanceUID", "deid_func"),
        ("REMOVE", "PatientAddress", "func"),
        ("JITTER", "StudyDate", "literal"),
        ("BLANK", "PatientComments", None),
        ("KEEP", "Modality", None),
    ]
    assert r.header[1].value.text == '"Doe  John"'  # quotes and inner spacing kept
    assert r.header[3].value.args == (("prefix", "1.2.3."), ("stable_remapping", "false"))
    assert [a.index for a in r.header] == list(range(8))
    assert r.sections == ("header",)


def test_value_is_comment_cut_like_upstream() -> None:
    r = parse_recipe(HEAD + "REPLACE PatientName John   Doe # a comment\n")
    assert r.header[0].value.text == "John Doe "


def test_spans_point_at_the_source() -> None:
    r = parse_recipe(HEAD + "  REMOVE   contains:UID\n", "site.dicom")
    a = r.header[0]
    assert a.span == Span("site.dicom", 3, 3, 3, 24)
    assert (a.field.span.line, a.field.span.col, a.field.span.end_col) == (3, 12, 24)


def test_every_problem_reported_at_once() -> None:
    text = HEAD + "REPLCE PatientName x\nREMOVE PatientNam\nJITTER StudyDate soon\nKEEP 'x\n"
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, "site.dicom")
    err = info.value
    assert isinstance(err, DeidError)
    assert [d.code for d in err.diagnostics] == ["E102", "E110", "E114", "E119"]
    assert [d.span.line for d in err.diagnostics] == [3, 4, 5, 6]
    assert "site.dicom:3:1: error[E102]: unknown action 'REPLCE'" in str(err)
    assert "help: did you mean 'REPLACE'?" in str(err)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("ADDD PatientName x", "E102"),
        ("REPLCE PatientName x", "E102"),
        ("REMOVE PatientNam", "E110"),
        ("JITTER StudyDate notanumber", "E114"),
        ("ADD PatientIdentityRemoved", "E108"),
        ("REPLACE PatientName", "E108"),
        ("REPLACE values:nope var:x", "E112"),
        ("REMOVE fields:nope", "E112"),
        ("REPLACE PatientName deid_func:simple_uuid", "E113"),
        ("REMOVE contains:(", "E111"),
        ("add PatientName x", "E102"),
        ("KEEPER PatientName", "E102"),
        ("labelfoo", "E102"),
        ("LABEL x", "E105"),
        ("FIELD PatientID", "E105"),
    ],
)
def test_upstream_silent_skips_are_errors(line: str, code: str) -> None:
    assert code in codes(HEAD + line + "\n")
    with pytest.raises(RecipeError):
        parse_recipe(HEAD + line + "\n")


@pytest.mark.parametrize(
    "text",
    [
        "FORMAT dicom # a comment\n%header\nREMOVE PatientName\n",
        "FORMAT DICOM\n%HEADER\nREMOVE PatientName\n",
        "FORMAT dicom\r\n%header\r\nREMOVE PatientName\r\n",
        "\ufeffFORMAT dicom\n%header\nREMOVE PatientName\n",
        "FORMAT dicom\n%header\n    REMOVE PatientName   \n\n\n",
    ],
)
def test_accepted_variants(text: str) -> None:
    r = parse_recipe(text)
    assert r.header[0].field.text == "PatientName"


def test_missing_format_is_a_warning() -> None:
    r, diags = parse_recipe_with_diagnostics("%header\nREMOVE PatientName\n")
    assert r is not None and [d.code for d in diags] == ["W106"]


def test_strict_false_downgrades_unknown_names() -> None:
    text = HEAD + "REMOVE PatientNam\nREPLACE PatientID deid_func:my_func\n"
    assert codes(text) == ["E110", "E113"]
    r, diags = parse_recipe_with_diagnostics(text, strict=False)
    assert r is not None and {d.severity for d in diags} == {"warning"}


def test_extra_functions_accepted() -> None:
    text = HEAD + "REPLACE PatientID deid_func:my_func\n"
    assert parse_recipe(text, functions=["my_func"]).header[0].value.name == "my_func"


def test_sections_merge_and_filters() -> None:
    text = (
        "FORMAT dicom\n%values names\nFIELD PatientName\n%fields ids\nFIELD contains:ID\n"
        "%filter graylist\nLABEL a # who\n  contains Modality CT\n  + equals Rows 512\n"
        "  || missing Manufacturer || contains ImageType SCREEN SAVE\n"
        "  ctpcoordinates 10,20,30,40\n  keepcoordinates all\n"
        "%values names\nSPLIT PatientName by=\"^\";minlength='3'\n"
        "%filter graylist\nLABEL b\n  coordinates from:SequenceOfUltrasoundRegions\n"
        "%header\nREPLACE values:names x\nREMOVE fields:ids\n"
    )
    r = parse_recipe(text)
    assert [g.name for g in r.filters] == ["graylist"]
    a, b = r.filters[0].labels
    assert a.name == "a"
    assert [cl.operator for cl in a.lines] == [None, "and", "or"]
    third = a.lines[2]
    assert [c.filter for c in third.criteria] == ["missing", "contains"]
    assert third.criteria[0].value is None and third.criteria[1].value == "SCREEN SAVE"
    assert third.inner_operators == ("or",)
    assert a.coordinates[0].box == (10, 20, 40, 60) and not a.coordinates[0].keep
    assert a.coordinates[1].kind == "all" and a.coordinates[1].keep
    assert b.coordinates[0].from_field == "SequenceOfUltrasoundRegions"
    names = r.values_group("names")
    assert [x.action for x in names.lines] == ["FIELD", "SPLIT"]
    assert (names.lines[1].by, names.lines[1].minlength) == ("^", 3)
    assert r.fields_group("ids").lines[0].field.kind == "contains"
    assert r.sections == ("values", "fields", "filter", "header")


def test_split_separator_may_be_a_semicolon() -> None:
    r = parse_recipe('FORMAT dicom\n%values v\nSPLIT PatientName by=";";minlength=2\n')
    line = r.values[0].lines[0]
    assert (line.by, line.minlength) == (";", 2)


@pytest.mark.parametrize(
    ("text", "kind", "attrs"),
    [
        ("PatientName", "keyword", {"arg": "PatientName"}),
        ("(0010,0010)", "tag", {"tag": 0x00100010}),
        ("00100010", "tag", {"tag": 0x00100010}),
        ("(50xx,0010)", "tag_mask", {"tag": 0x50000010, "mask": 0xFF00FFFF}),
        ("(60XX,3000)", "tag_mask", {"tag": 0x60003000, "mask": 0xFF00FFFF}),
        (
            '(0033,"MITRA 1.0",1E)',
            "private",
            {"group": 0x33, "creator": "MITRA 1.0", "offset": 0x1E},
        ),
        ('0009,"GEMS: IDEN",10', "private", {"group": 9, "creator": "GEMS: IDEN", "offset": 0x10}),
        ("(0008,1110)__0__(0008,1150)", "nested", {}),
        ("ReferencedStudySequence__ReferencedSOPClassUID", "nested", {}),
        ("all", "all", {}),
        ("ALL", "all", {}),
        ("contains:UID", "contains", {"arg": "UID"}),
        ("startswith:Patient", "startswith", {"arg": "Patient"}),
        ("endswith:Date|Time", "endswith", {"arg": "Date|Time"}),
        ("except:Manufacturer", "except", {"arg": "Manufacturer"}),
        ("select:vr:pn", "select_vr", {"arg": "PN"}),
        ("select:VR:DA", "select_vr", {"arg": "DA"}),
        ("select:group:0010", "select_group", {"group": 0x10}),
        ("values:names", "values", {"arg": "names"}),
        ("fields:ids", "fields", {"arg": "ids"}),
    ],
)
def test_parse_field_expr(text: str, kind: str, attrs: dict) -> None:
    fe = parse_field_expr(text)
    assert fe.kind == kind and fe.text == text
    for key, val in attrs.items():
        assert getattr(fe, key) == val


@pytest.mark.parametrize("text", ["foo:bar", "(0010, 0010)", "0x00100010", '(0011,"x",10'])
def test_parse_field_expr_rejects(text: str) -> None:
    with pytest.raises(RecipeError):
        parse_field_expr(text)


@pytest.mark.parametrize(
    ("text", "kind", "name"),
    [
        ("var:entity_id", "var", "entity_id"),
        ("func:pusheenize", "func", "pusheenize"),
        ("deid_func:basic_uuid", "deid_func", "basic_uuid"),
        ("John Doe", "literal", None),
        ('"quoted value"', "literal", None),
        ("variable", "literal", None),
    ],
)
def test_parse_value(text: str, kind: str, name: str | None) -> None:
    v = parse_value(text)
    assert (v.kind, v.name, v.text) == (kind, name, text)


def test_load_recipe_tags_and_paths(tmp_path: Path) -> None:
    assert len(load_recipe("dicom").filters) == 3
    assert load_recipe("deid.dicom.xray.chest").header == ()
    f = tmp_path / "deid.site"
    f.write_text(HEAD + "REMOVE PatientName\n")
    assert load_recipe(f).header[0].field.text == "PatientName"
    assert load_recipe(tmp_path).sources == (str(f),)


@pytest.mark.parametrize("bad", ["no-such-tag", "dicom.ultrasond", "/no/such/file.dicom"])
def test_load_recipe_fails_closed(bad: str) -> None:
    with pytest.raises(RecipeError) as info:
        load_recipe(bad)
    assert info.value.diagnostics[0].code == "E100"


def test_folder_without_recipe_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(RecipeError, match="no recipe file"):
        read_recipe_source(tmp_path)


def test_folder_with_two_recipes_takes_the_first_by_name(tmp_path: Path) -> None:
    (tmp_path / "deid.b").write_text(HEAD + "KEEP Modality\n")
    (tmp_path / "deid.a").write_text(HEAD + "REMOVE PatientName\n")
    with pytest.warns(UserWarning, match="several recipe files"):
        name, text = read_recipe_source(tmp_path)
    assert name == str(tmp_path / "deid.a") and "REMOVE PatientName" in text


def test_stack_keeps_order_and_later_groups() -> None:
    a = parse_recipe("FORMAT dicom\n%values v\nFIELD PatientID\n%header\nREMOVE PatientName\n")
    b = parse_recipe(
        "FORMAT dicom\n%values v\nFIELD OtherPatientIDs\n%values w\nFIELD PatientName\n"
        "%filter graylist\nLABEL x\n contains Modality CT\n%header\nBLANK PatientID\n"
    )
    s = stack([a, b])
    assert [(x.action, x.index) for x in s.header] == [("REMOVE", 0), ("BLANK", 1)]
    assert [len(g.lines) for g in s.values] == [2, 1]
    assert [g.name for g in s.filters] == ["graylist"]


def test_documented_but_unimplemented_expanders_are_refused_with_a_hint() -> None:
    for line in ("REMOVE allfields", "REMOVE allexcept:Modality"):
        _, diags = parse_recipe_with_diagnostics(HEAD + line + "\n")
        assert [d.code for d in diags] == ["E109"]
        assert "never implemented" in (diags[0].hint or "")


def test_splitval_from_upstream_docs_is_an_alias_of_by() -> None:
    r = parse_recipe("FORMAT dicom\n%values v\nSPLIT PatientID splitval='^';minlength='4'\n")
    line = r.values[0].lines[0]
    assert (line.by, line.minlength, line.value) == ("^", 4, "splitval='^';minlength='4'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FORMAT dicom\n%header\ncoordinates all\n", "'coordinates' line in a %header section"),
        ("FORMAT dicom\n%filter f\nkeepcoordinates all\n", "outside a LABEL block"),
        ("FORMAT dicom\n%values v\ncontains Modality CT\n", "in a %values section"),
    ],
)
def test_block_lines_outside_a_label(text: str, message: str) -> None:
    _, diags = parse_recipe_with_diagnostics(text)
    assert [d.code for d in diags] == ["E105"]
    assert message in diags[0].message


def test_recipes_are_picklable_and_lark_free() -> None:
    import pickle

    r = load_recipe("dicom")
    data = pickle.dumps(r)
    assert b"lark" not in data
    assert pickle.loads(data) == r


def test_line_numbers_count_newlines_only() -> None:
    # "\v" / "\f" / "\u2028" inside a line never shift later line numbers
    text = "FORMAT dicom\n%header\nREMOVE A\x0bB\nKEEP C\u2028D\nREPLCE PatientName x\n"
    _, diags = parse_recipe_with_diagnostics(text, "r.dicom")
    assert [(d.code, d.span.line) for d in diags] == [("E101", 3), ("E101", 4), ("E102", 5)]
    assert "| REPLCE PatientName x" in diags[-1].render(text)


def test_lone_carriage_return_inside_a_line_is_an_error() -> None:
    text = "FORMAT dicom\r\n%header\r\nREMOVE PatientName\rKEEP Modality\r\n"
    _, diags = parse_recipe_with_diagnostics(text, "r.dicom")
    assert [(d.code, d.span.line) for d in diags] == [("E101", 3)]
    crlf = parse_recipe("FORMAT dicom\r\n%header\r\nREMOVE PatientName\r\n  \r\nKEEP Modality\r\n")
    assert [(a.action, a.span.line) for a in crlf.header] == [("REMOVE", 3), ("KEEP", 5)]


def test_bare_format_on_a_windows_line() -> None:
    assert codes("FORMAT\r\n%header\r\nREMOVE PatientName\r\n") == ["E106"]
    assert codes("FORMAT\n%header\nREMOVE PatientName\n") == ["E106"]


def test_runs_of_lines_keep_exact_positions() -> None:
    text = (
        "FORMAT dicom\n%filter f\n\nLABEL A  # c\n  contains Modality CT\n\n  # note\n"
        "\t+ contains Manufacturer GE || missing Rows\n  ctpcoordinates 0,0,10,10\n"
        "LABEL B\n  contains Modality CT\n%header\nREMOVE PatientName\n\n   KEEP Modality # c\n"
    )
    r = parse_recipe(text, "p.dicom")
    a, b = r.filters[0].labels
    assert a.span == Span("p.dicom", 4, 1, 4, 13) and a.name == "A"
    second = a.lines[1]
    assert second.span == Span("p.dicom", 8, 2, 8, 44)
    assert [(c.filter, c.span.col, c.span.end_col) for c in second.criteria] == [
        ("contains", 4, 28),
        ("missing", 32, 44),
    ]
    assert a.coordinates[0].box == (0, 0, 10, 10) and a.coordinates[0].span.line == 9
    assert b.lines[0].span == Span("p.dicom", 11, 3, 11, 23)
    assert [(x.action, x.span) for x in r.header] == [
        ("REMOVE", Span("p.dicom", 13, 1, 13, 19)),
        ("KEEP", Span("p.dicom", 15, 4, 15, 21)),
    ]
    assert r.header[1].field.span == Span("p.dicom", 15, 9, 15, 17)


def test_repeated_lines_get_their_own_spans() -> None:
    line = "  + contains Modality US\n"
    text = "FORMAT dicom\n%filter f\nLABEL A\n  contains Rows 1\n" + line * 3
    lines = parse_recipe(text).filters[0].labels[0].lines[1:]
    assert [cl.span.line for cl in lines] == [5, 6, 7]
    assert [cl.criteria[0].span.line for cl in lines] == [5, 6, 7]
    assert lines[0] == lines[1] == lines[2]  # equal shape (spans do not take part)
