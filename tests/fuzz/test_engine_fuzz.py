"""Hypothesis: the recipe parser and the engine on generated recipes and datasets.

* any text given to the recipe parser gives a Recipe or a RecipeError, nothing else;
* any generated dataset through the Basic Profile: no unhandled exception (only DeidError),
  and an attribute the profile removes never survives, at any depth;
* any generated REMOVE/BLANK recipe: the fields it removes are gone afterwards.
"""

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import Dataset
from pydicom.sequence import Sequence

from deid.errors import DeidError

EXAMPLES = int(os.environ.get("DEID_FUZZ_EXAMPLES") or 0) or 25

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("DEID_FUZZ_EXAMPLES"),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

#: Attributes the Basic Profile removes (X) or replaces with a dummy; none may keep its value.
IDENTIFYING = {
    "PatientName": "PN",
    "PatientID": "LO",
    "PatientBirthDate": "DA",
    "PatientAddress": "LO",
    "OtherPatientIDs": "LO",
    "PatientTelephoneNumbers": "SH",
    "InstitutionAddress": "ST",
    "ReferringPhysicianName": "PN",
    "OperatorsName": "PN",
    "PatientComments": "LT",
    "AdditionalPatientHistory": "LT",
    "AccessionNumber": "SH",
    "InstitutionName": "LO",
    "StationName": "SH",
    "DeviceSerialNumber": "LO",
    "PerformingPhysicianName": "PN",
}
KEPT = {"Modality": "CS", "Rows": "US", "Columns": "US", "SliceThickness": "DS", "KVP": "DS"}

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\^="),
    min_size=4,
    max_size=24,
).map(lambda s: "Q" + s.strip() + "Z")
_name = st.tuples(_text, _text).map(lambda t: f"{t[0][:20]}^{t[1][:20]}")
_date = st.dates(min_value=__import__("datetime").date(1900, 1, 1)).map(
    lambda d: d.strftime("%Y%m%d")
)


def _value(vr):
    if vr == "PN":
        return _name
    if vr == "DA":
        return _date
    if vr in ("US",):
        return st.integers(1, 512)
    if vr == "DS":
        return st.sampled_from(["1.5", "120", "0.625"])
    if vr == "CS":
        return st.sampled_from(["CT", "MR", "US"])
    return _text.map(lambda s: s[:16] if vr == "SH" else s[:60])


@st.composite
def datasets(draw, depth=0):
    ds = Dataset()
    names = draw(st.lists(st.sampled_from(sorted(IDENTIFYING | KEPT)), unique=True, max_size=10))
    for kw in names:
        vr = {**IDENTIFYING, **KEPT}[kw]
        setattr(ds, kw, draw(_value(vr)))
    if draw(st.booleans()):
        block = ds.private_block(
            0x0009 + 2 * draw(st.integers(0, 3)),
            draw(st.sampled_from(["ACME 1.0", "GEMS_IDEN_01", "SIEMENS MED"])),
            create=True,
        )
        block.add_new(draw(st.integers(0, 0xFF)), "LO", draw(_text)[:60])
    if depth < 3 and draw(st.booleans()):
        items = draw(st.lists(datasets(depth=depth + 1), max_size=2))
        kw = draw(
            st.sampled_from(
                [
                    "RequestAttributesSequence",
                    "ReferencedStudySequence",
                    "OtherPatientIDsSequence",
                    "ContentSequence",
                ]
            )
        )
        setattr(ds, kw, Sequence(items))
    return ds


def _identifying_values(ds, out=None):
    out = [] if out is None else out
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _identifying_values(item, out)
        elif elem.keyword in IDENTIFYING or (elem.tag.group % 2 == 1 and elem.tag.element > 0xFF):
            out.append(str(elem.value))
    return out


def _all_text(ds):
    parts = []
    for elem in ds.iterall():
        if elem.VR != "SQ":
            parts.append(str(elem.value))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def basic_plan():
    from deid.profiles import profile_plan

    return profile_plan("basic")


@FUZZ
@given(ds=datasets())
def test_basic_profile_on_generated_datasets(basic_plan, ds):
    secrets = [v for v in _identifying_values(ds) if len(v) >= 6]
    work = copy.deepcopy(ds)
    try:
        basic_plan.apply(work)
    except DeidError:
        return  # refusing is allowed; crashing is not
    text = _all_text(work)
    for value in secrets:
        assert value not in text, value
    for kw in KEPT:
        if kw in ds:
            assert str(work.get(kw)) == str(ds.get(kw)), kw


_RECIPE_WORDS = [
    "FORMAT",
    "dicom",
    "%header",
    "%filter",
    "%values",
    "%fields",
    "REMOVE",
    "BLANK",
    "REPLACE",
    "ADD",
    "KEEP",
    "JITTER",
    "LABEL",
    "PatientName",
    "contains:Name",
    "func:generate_uid",
    "var:id",
    "values:x",
    "fields:y",
    "ALL",
    "(0010,0010)",
    "(50xx,0010)",
    "0",
    "1",
    "\n",
    " ",
    "#",
    '"',
    "|",
    "+",
    "%",
]


@FUZZ
@given(words=st.lists(st.sampled_from(_RECIPE_WORDS), max_size=30), junk=st.text(max_size=20))
def test_recipe_parser_never_crashes(words, junk):
    from deid.errors import RecipeError
    from deid.recipe import parse_recipe

    text = " ".join(words) + junk
    try:
        recipe = parse_recipe(text, name="fuzz.dicom")
    except RecipeError as exc:
        assert exc.diagnostics, "a RecipeError carries its diagnostics"
    else:
        assert recipe is not None


@FUZZ
@given(
    ds=datasets(),
    remove=st.lists(st.sampled_from(sorted(IDENTIFYING)), unique=True, min_size=1, max_size=6),
    action=st.sampled_from(["REMOVE", "BLANK", "REPLACE"]),
)
def test_generated_recipe_removes_what_it_names(ds, remove, action):
    from deid.engine import compile_plan
    from deid.recipe import parse_recipe

    suffix = " REDACTEDVALUE" if action == "REPLACE" else ""
    lines = ["FORMAT dicom", "%header"] + [f"{action} {kw}{suffix}" for kw in remove]
    plan = compile_plan(parse_recipe("\n".join(lines) + "\n", name="gen.dicom"))
    work = copy.deepcopy(ds)
    plan.apply(work)
    for kw in remove:
        if kw not in ds:
            continue
        old = str(ds.data_element(kw).value)
        if action == "REMOVE":
            assert kw not in work
        elif kw in work:
            assert str(work.data_element(kw).value) != old or old in ("", "REDACTEDVALUE")
