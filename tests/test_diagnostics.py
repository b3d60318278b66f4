"""Tests for deid.diagnostics: rendering, carets and suggestions."""

from __future__ import annotations

from deid.diagnostics import Diagnostic, render_all, suggest
from deid.recipe.ast import Span

SOURCE = "FORMAT dicom\n%header\nREPLCE PatientName foo\n"


def test_header_line_names_file_line_col_code() -> None:
    d = Diagnostic("E102", "error", "unknown action 'REPLCE'", Span("site.dicom", 3, 1, 3, 7))
    assert d.header() == "site.dicom:3:1: error[E102]: unknown action 'REPLCE'"


def test_render_shows_line_and_caret_under_span() -> None:
    d = Diagnostic(
        "E103", "error", "unknown keyword", Span("s.dicom", 3, 8, 3, 19), hint="did you mean 'X'?"
    )
    lines = d.render(SOURCE).splitlines()
    assert lines[1].endswith("| REPLCE PatientName foo")
    caret_line = lines[2]
    bar = caret_line.index("|")
    text_start = lines[1].index("|") + 2
    assert caret_line[text_start + 7 : text_start + 18] == "^" * 11
    assert caret_line[bar + 2 : text_start + 7].strip() == ""
    assert lines[3] == "help: did you mean 'X'?"


def test_render_without_source_is_header_only() -> None:
    d = Diagnostic("W101", "warning", "odd", Span("s.dicom", 2, 1, 2, 3))
    assert d.render(None) == d.header()


def test_render_span_past_end_of_file_does_not_fail() -> None:
    d = Diagnostic("E101", "error", "eof", Span("s.dicom", 99, 1, 99, 2))
    assert d.render(SOURCE) == d.header()


def test_multiline_span_underlines_rest_of_line() -> None:
    d = Diagnostic("E101", "error", "block", Span("s.dicom", 3, 8, 5, 1))
    caret = d.render(SOURCE).splitlines()[2]
    assert caret.rstrip().endswith("^" * len("PatientName foo"))


def test_render_all_uses_matching_source() -> None:
    a = Diagnostic("E1", "error", "a", Span("a.dicom", 1, 1, 1, 2))
    b = Diagnostic("E2", "error", "b", Span("b.dicom", 1, 1, 1, 2))
    out = render_all([a, b], {"a.dicom": "AAA\n"})
    assert "| AAA" in out
    assert "b.dicom:1:1: error[E2]: b" in out


def test_suggest_is_case_insensitive_and_returns_candidate_spelling() -> None:
    assert suggest("replce", ["ADD", "REPLACE"]) == "REPLACE"
    assert suggest("PatientNam", ["PatientName", "PatientID"]) == "PatientName"
    assert suggest("qqqq", ["ADD", "REPLACE"]) is None


def test_render_counts_lines_like_the_parser() -> None:
    # only "\n" ends a line: "\f", "\v", "\x1c" and "\u2028" stay inside it, "\r\n" is one break
    source = "FORMAT dicom\r\n%header\r\nREMOVE A\x0bB\nREPLCE PatientName\u2028x\nKEEP C\x0c\n"
    d = Diagnostic("E102", "error", "unknown action", Span("s.dicom", 4, 1, 4, 7))
    shown = d.render(source).split("\n")
    assert shown[1] == "   4 | REPLCE PatientName\u2028x"
    assert shown[2] == "     | ^^^^^^"
    last = Diagnostic("W1", "warning", "x", Span("s.dicom", 5, 1, 5, 5)).render(source)
    assert last.split("\n")[1] == "   5 | KEEP C\x0c"
    crlf = Diagnostic("W1", "warning", "x", Span("s.dicom", 2, 1, 2, 8)).render(source)
    assert crlf.split("\n")[1] == "   2 | %header"  # no "\r" left in the shown line
    past = Diagnostic("W1", "warning", "x", Span("s.dicom", 6, 1, 6, 2)).render(source)
    assert past == "s.dicom:6:1: warning[W1]: x"  # the final newline opens no line 6


def test_render_line_numbers_match_parser_spans() -> None:
    from deid.recipe import parse_recipe_with_diagnostics

    source = "FORMAT dicom\n%header\nREMOVE A\x0bB\nREPLCE PatientName\n"
    _, diags = parse_recipe_with_diagnostics(source, "s.dicom")
    bad = next(d for d in diags if d.code == "E102")
    assert bad.span.line == 4
    assert "| REPLCE PatientName" in bad.render(source)
