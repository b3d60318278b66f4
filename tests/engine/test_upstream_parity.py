"""Differential check against pydicom/deid itself (opt-in).

Set ``DEID_UPSTREAM_PYTHON`` to the interpreter of another virtualenv where pydicom/deid
(0.4.13) is installed; each case then runs there (``DicomParser(...).parse()``) and here
(``compile_plan(...).apply(...)``) on deid-data files, and the resulting headers must be equal
except for the documented differences (docs/pages/differences.md, "Header engine"), which are
listed in ``KNOWN``. Without the variable the test is skipped: nothing is fetched or installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pydicom
import pytest

from deid.engine import Context, compile_plan
from deid.recipe import parse_recipe

from .conftest import default_recipe_text, deid_data_file

UPSTREAM = os.environ.get("DEID_UPSTREAM_PYTHON")
pytestmark = pytest.mark.skipif(not UPSTREAM, reason="DEID_UPSTREAM_PYTHON not set")

FILES = [("humans", "ctbrain1.dcm"), ("dicom-cookies", "image3.dcm")]
VARS = {
    "id": "NEWID",
    "source_id": "SRC",
    "d": 3,
    "pid": "P1",
    "entity_id": "E1",
    "item_id": "I1",
    "entity_timestamp": "20200101",
    "item_timestamp": "20200102",
}
BODIES = {
    "matrix": [
        f"{a}\n{b}"
        for a in (
            "ADD StudyDate 20221128",
            "REPLACE StudyDate 20221129",
            "JITTER StudyDate 5",
            "BLANK StudyDate",
            "KEEP StudyDate",
            "REMOVE StudyDate",
        )
        for b in (
            "ADD StudyDate 20221128",
            "REPLACE StudyDate 20221129",
            "JITTER StudyDate 2",
            "BLANK StudyDate",
            "KEEP StudyDate",
            "REMOVE StudyDate",
        )
    ],
    "expanders": [
        f"{action} {expr}"
        for action in ("REMOVE", "BLANK")
        for expr in (
            "ALL",
            "contains:UID",
            "startswith:Referenced",
            "endswith:Date|Time",
            "except:Patient",
            "select:vr:UI",
            "select:group:0008",
            "contains:0010",
            "CodeMeaning",
            "(0008,1110)__0__(0008,1150)",
            "ReferencedStudySequence__ReferencedSOPClassUID",
            "contains:^.{3}[13579].{4}$",
            "select:VR:SQ",
        )
    ],
    "values": [
        "REPLACE contains:UID deid_func:pydicom_uuid",
        "REPLACE StudyDate deid_func:jitter days=3 years=1",
        "JITTER endswith:Date var:d\nJITTER endswith:Date var:d",
        "REPLACE PatientID var:pid\nREMOVE PatientID",
        "REMOVE (0032,1064)\nREPLACE (0008,0104) x",
        "KEEP contains:Sequence\nREMOVE ALL",
        "ADD 11112221 SIMPSON\nADD PatientIdentityRemoved YES",
    ],
}
FULL = {
    "default": default_recipe_text(),
    "fields": "FORMAT dicom\n%fields f\nFIELD contains:Instance\n%header\nREMOVE fields:f\n",
}
KNOWN: dict[str, str] = {}  # case name -> reason (documented differences); none in these cases

_RUNNER = r"""
import io, json, sys, contextlib, warnings
warnings.simplefilter("ignore")
import pydicom
from deid.config import DeidRecipe
from deid.dicom.parser import DicomParser
cases, varz, out = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), {}
for name, (path, text) in cases.items():
    open(sys.argv[3], "w").write(text)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        parser = DicomParser(pydicom.dcmread(path), recipe=DeidRecipe(sys.argv[3], base=False))
        for k, v in varz.items():
            parser.define(k, v)
        parser.parse()
    ds = parser.dicom
    out[name] = [repr(e) for e in ds.iterall()] + [repr(e) for e in ds.file_meta]
print(json.dumps(out))
"""


def _cases() -> dict[str, tuple[str, str]]:
    cases = {}
    for folder, name in FILES:
        path = deid_data_file(folder, name)
        for group, bodies in BODIES.items():
            for i, body in enumerate(bodies):
                cases[f"{group}-{i}-{name}"] = (path, "FORMAT dicom\n%header\n" + body + "\n")
        for key, text in FULL.items():
            cases[f"{key}-{name}"] = (path, text)
    return cases


def _normalise(lines: list[str]) -> list[str]:
    # element names differ for private tags whose creator was removed: compare tag, VR, value
    return sorted(re.sub(r"^(\(\w{4},\w{4}\)) .{35}", r"\1", line) for line in lines)


def test_same_headers_as_pydicom_deid(tmp_path) -> None:
    cases = _cases()
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "vars.json").write_text(json.dumps(VARS))
    proc = subprocess.run(
        [UPSTREAM, "-c", _RUNNER, "cases.json", "vars.json", "recipe.dicom"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    upstream = json.loads(proc.stdout.strip().splitlines()[-1])
    mismatches = []
    for name, (path, text) in cases.items():
        plan = compile_plan(parse_recipe(text, name="recipe.dicom"))
        ds = pydicom.dcmread(path)
        plan.apply(ds, Context(dict(VARS)))
        ours = [repr(e) for e in ds.iterall()] + [repr(e) for e in ds.file_meta]
        if _normalise(ours) != _normalise(upstream[name]) and name not in KNOWN:
            mismatches.append(name)
    assert mismatches == [], mismatches


def test_runner_is_not_our_package() -> None:
    out = subprocess.run(
        [UPSTREAM, "-c", "import deid, os; print(os.path.dirname(deid.__file__))"],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert os.path.realpath(out) != os.path.realpath(os.path.dirname(sys.modules["deid"].__file__))
