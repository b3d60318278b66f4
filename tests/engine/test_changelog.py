"""deid.engine.changelog."""

from __future__ import annotations

import pickle

from deid.engine.changelog import Change, ChangeLog, RuleRef, format_tag


def test_changelog() -> None:
    rule = RuleRef("r.dicom", 4, "BLANK PatientName")
    log = ChangeLog(
        [
            Change("(0010,0010)", 0x00100010, "PatientName", "BLANK", rule, "PN"),
            Change("(0010,0020)", 0x00100020, "PatientID", "REMOVE", None, "LO", "why"),
            Change("(0040,0275)__0__(0010,0010)", 0x00100010, "PatientName", "BLANK", rule, "PN"),
        ]
    )
    assert log.counts() == {"BLANK": 2, "REMOVE": 1}
    assert len(log.for_tag(0x00100010)) == 2
    assert [c.path for c in log.details()] == ["(0010,0020)"]
    assert str(log[1]) == "(0010,0020) PatientID: REMOVE [why]"
    assert pickle.loads(pickle.dumps(log)) == log
    assert format_tag(0x00091001) == "(0009,1001)"
