"""deid.profiles.functions: the ps315_ value functions as the engine calls them."""

from __future__ import annotations

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid.engine.context import Context
from deid.engine.functions import get_function
from deid.engine.keys import Key, keyed_uid
from deid.engine.walk import Field
from deid.profiles import functions as fn
from deid.profiles.table import OPTION_IDS

KEY = "functions test key 0123456789"


def field(ds, keyword, uid=None):
    elem = ds[keyword]
    return Field(elem, keyword, uid or f"({elem.tag.group:04X},{elem.tag.element:04X})")


def call(func, ds, f, ctx):
    return func(dicom=ds, value="func:x", field=f, item={}, context=ctx)


def test_registered_with_context():
    from deid.profiles.compose import FUNCTION_NAMES

    assert len(FUNCTION_NAMES) == 7
    for name in FUNCTION_NAMES:
        spec = get_function(name)
        assert spec is not None and spec.context is True


def test_uid_uses_and_fills_the_shared_map():
    ds = Dataset()
    ds.SOPInstanceUID = "1.2.3"
    ds.add_new(0x00081150, "UI", ["1.2.4", "1.2.5"])
    ctx = Context(key=KEY)
    new = call(fn.ps315_uid, ds, field(ds, "SOPInstanceUID"), ctx)
    assert new == keyed_uid(Key.from_text(KEY), "1.2.3") == ctx.uid_map["1.2.3"]
    multi = call(fn.ps315_uid, ds, Field(ds[0x00081150], "", "(0008,1150)"), ctx)
    assert isinstance(multi, list) and len(multi) == 2 and ctx.uid_map["1.2.5"] == multi[1]


def test_without_key_a_process_key_and_flag():
    ds = Dataset()
    ds.SOPInstanceUID = "1.2.3"
    c1, c2 = Context(), Context()
    a = call(fn.ps315_uid, ds, field(ds, "SOPInstanceUID"), c1)
    b = call(fn.ps315_uid, ds, field(ds, "SOPInstanceUID"), c2)
    assert a == b  # one random key per process
    assert c1.extra["ps315_reproducible"] is False


def test_dummy_by_vr():
    ds = Dataset()
    ds.InstitutionName = "Hospital"
    ds.add_new(0x00181000, "LO", "SN1")
    ds.InstanceCreationDate = "20200101"
    ds.AcquisitionDeviceProcessingDescription = "x"
    ctx = Context(key=KEY)
    assert call(fn.ps315_dummy, ds, field(ds, "InstitutionName"), ctx) == "ANONYMIZED"
    assert call(fn.ps315_dummy, ds, field(ds, "InstanceCreationDate"), ctx) == "19000101"


def test_pseudonym_vr_and_lookup():
    ds = Dataset()
    ds.AccessionNumber = "A123"
    ds.PatientID = "P1"
    ctx = Context(key=KEY, extra={"ps315_lookup": {"P1": "SUBJ-1"}, "ps315_record": True})
    acc = call(fn.ps315_pseudonym, ds, field(ds, "AccessionNumber"), ctx)
    assert len(acc) <= 16 and acc != "A123"
    assert call(fn.ps315_pseudonym, ds, field(ds, "PatientID"), ctx) == "SUBJ-1"
    assert ctx.extra["ps315_crosswalk"][("PatientID", "P1")] == "SUBJ-1"


def test_name_keyed_and_empty():
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.OperatorsName = ""
    ctx = Context(key=KEY)
    name = call(fn.ps315_name, ds, field(ds, "PatientName"), ctx)
    assert name.startswith("ANON^")
    assert call(fn.ps315_name, ds, field(ds, "OperatorsName"), ctx) == ""


def test_shift_uses_the_original_patient_and_caches_the_offset():
    ds = Dataset()
    ds.PatientID = "P1"
    ds.StudyDate = "20200101"
    ds.StudyTime = "120000"
    ds.AcquisitionDateTime = "20200101120000"
    ds.add_new(0x00080023, "LO", "garbage")  # ContentDate with a wrong VR
    ds[0x00080023].VR = "DA"
    ctx = Context(key=KEY)
    d = call(fn.ps315_shift, ds, field(ds, "StudyDate"), ctx)
    ds.PatientID = "CHANGED"  # later changes do not move the offset of this dataset
    dt = call(fn.ps315_shift, ds, field(ds, "AcquisitionDateTime"), ctx)
    assert dt[:8] == d and dt[8:] == "120000"
    assert call(fn.ps315_shift, ds, field(ds, "StudyTime"), ctx) == "120000"
    assert call(fn.ps315_shift, ds, field(ds, "ContentDate"), ctx) == ""  # fail closed
    assert list(ctx.date_offsets) == ["id:|P1"]


def test_clean_text_masks_identifiers_of_the_dataset():
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.StudyDescription = "Jane Doe knee"
    ctx = Context(key=KEY)
    assert call(fn.ps315_clean_text, ds, field(ds, "StudyDescription"), ctx) == "******** knee"


def test_private_unsafe_condition_nested():
    ds = Dataset()
    inner = Dataset()
    inner.private_block(0x0019, "GEMS_ACQU_01", create=True).add_new(0x23, "DS", "1")
    inner.private_block(0x0019, "OTHER", create=True).add_new(0x23, "DS", "1")
    ds.ReferencedImageSequence = Sequence([inner])
    ctx = Context(key=KEY)
    safe = Field(inner[0x00191023], "", "(0008,1140)__0__(0019,1023)")
    unsafe = Field(inner[0x00191123], "", "(0008,1140)__0__(0019,1123)")
    creator = Field(inner[0x00190010], "", "(0008,1140)__0__(0019,0010)")
    other_creator = Field(inner[0x00190011], "", "(0008,1140)__0__(0019,0011)")
    assert call(fn.ps315_private_unsafe, ds, safe, ctx) is False
    assert call(fn.ps315_private_unsafe, ds, unsafe, ctx) is True
    assert call(fn.ps315_private_unsafe, ds, creator, ctx) is False
    assert call(fn.ps315_private_unsafe, ds, other_creator, ctx) is True
    orphan = Field(DataElement(0x00991001, "LO", "x"), "", "(0099,1001)")
    assert call(fn.ps315_private_unsafe, ds, orphan, ctx) is True


def test_resolve_parent_bad_path():
    assert fn.resolve_parent(Dataset(), "(0008,1140)__0__(0019,1023)") is None


def test_prepare_is_cached_per_dataset():
    ds = Dataset()
    ds.PatientID = "P9"
    ctx = Context()
    a = fn.prepare(ds, ctx)
    assert fn.prepare(ds, ctx) is a
    other = Dataset()
    other.PatientID = "P10"
    assert fn.prepare(other, ctx).patient == "id:|P10"


# --------------------------------------------------------------------------- VR validity
import glob as _glob
import importlib.util as _ilu
import io as _io
import os as _os
import sys as _sys
from pathlib import Path as _Path

import pydicom as _pydicom
import pytest as _pytest
from pydicom import config as _config
from pydicom.valuerep import validate_value as _validate

_ROOT = _Path(__file__).resolve().parents[2]
_PIXEL_OPTIONS = ("clean-pixel-data", "clean-recognizable-visual-features")
#: The Basic Profile alone, with each header option, and with both pixel-level options.
_ALL_OPTIONS = [
    (),
    *[(o,) for o in OPTION_IDS if o not in _PIXEL_OPTIONS],
    _PIXEL_OPTIONS,
]


def test_fit_to_vr_lengths_and_charsets():
    assert fit_len("LO", "y" * 122) == 64
    assert fit_len("SH", "2.25." + "7" * 40) == 16
    assert fn.fit_to_vr("a*b c", "CS") == "A_B C"
    assert fn.fit_to_vr("x" * 70 + "=" + "y" * 70, "PN") == "x" * 64 + "=" + "y" * 64
    assert fn.fit_to_vr(["20200101", "20200102"], "DA") == ["20200101", "20200102"]
    assert fn.fit_to_vr("line\\nbreak", "LT") == "line\\nbreak"  # allowed in LT
    assert fn.fit_to_vr("tab\x01x", "LO") == "tab x"
    assert fn.fit_to_vr(b"\x00\x01", "OB") == b"\x00\x01"
    assert fn.fit_to_vr("not a date", "DA") == "19000101"


def fit_len(vr, text):
    out = fn.fit_to_vr(text, vr)
    _validate(vr, out, _config.RAISE)
    return len(out)


def test_clean_text_is_cut_to_the_vr():
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.StudyDescription = "Jane Doe " + "x" * 100  # LO, invalid length in the input
    ctx = Context(key=KEY)
    out = call(fn.ps315_clean_text, ds, field(ds, "StudyDescription"), ctx)
    assert len(out) == 64 and out.startswith("******** x")


def test_uid_in_a_short_text_vr_fits():
    ds = Dataset()
    ds.add_new(0x00081150, "SH", "1.2.3.4")  # a UID row found with the wrong VR
    ctx = Context(key=KEY)
    elem = ds[0x00081150]
    out = call(fn.ps315_uid, ds, Field(elem, "ReferencedSOPClassUID", "(0008,1150)"), ctx)
    assert len(out) <= 16 and out.startswith("2.25.")


def _sample_files(tmp_path_factory):
    import deid_data

    files = [
        f
        for f in _glob.glob(
            _os.path.join(_os.path.dirname(deid_data.__file__), "**", "*"), recursive=True
        )
        if _os.path.isfile(f) and not f.endswith((".py", ".pyc", ".json", ".txt", ".md"))
    ]
    name = "make_phi_corpus_vr"
    if name not in _sys.modules:
        spec = _ilu.spec_from_file_location(name, _ROOT / "tools" / "make_phi_corpus.py")
        module = _ilu.module_from_spec(spec)
        _sys.modules[name] = module
        spec.loader.exec_module(module)
    root = tmp_path_factory.mktemp("vr")
    _sys.modules[name].build_corpus(str(root / "c"), seed=5)
    files += [str(p) for p in (root / "c").rglob("*") if p.is_file() and p.suffix != ".json"]
    out = []
    for path in files:
        try:
            out.append(_pydicom.dcmread(path).filename)
        except Exception:  # noqa: BLE001, S112 - not a DICOM file
            continue
    return out


@_pytest.fixture(scope="module")
def sample_files(tmp_path_factory):
    return _sample_files(tmp_path_factory)


def _changed_elements(ds, log):
    for change in log:
        if change.action not in ("REPLACE", "ADD", "JITTER", "CLEAN"):
            continue
        if change.tag >> 16 == 2:
            parent = ds.file_meta
        else:
            parent = fn.resolve_parent(ds, change.path)
        if parent is None or change.tag not in parent:
            continue
        yield change, parent[change.tag]


@_pytest.mark.parametrize("options", _ALL_OPTIONS, ids=lambda o: "+".join(o) or "basic")
def test_every_written_value_is_valid_for_its_vr(sample_files, options, monkeypatch):
    """deid-data samples and the PHI corpus, Basic + each option: pydicom in RAISE mode for
    writing accepts every value the profile wrote, and the file saves."""
    from deid.profiles import profile_plan

    monkeypatch.setattr(_config.settings, "writing_validation_mode", _config.RAISE)
    plan = profile_plan("basic", options)
    assert len(sample_files) > 20
    checked = 0
    for path in sample_files:
        ds = _pydicom.dcmread(path)
        log = plan.apply(ds, Context(key=KEY, filename=path))
        for change, elem in _changed_elements(ds, log):
            if elem.VR == "SQ" or elem.value is None:
                continue
            values = elem.value if elem.VM > 1 else [elem.value]
            for value in values:
                try:
                    _validate(elem.VR, value, _config.RAISE)
                except ValueError as exc:
                    raise AssertionError(f"{path}: {change.path} {change.keyword}: {exc}") from None
                checked += 1
        ds.save_as(_io.BytesIO())
    assert checked > 100


def test_profile_state_captures_what_it_is_asked_and_the_rest_on_demand():
    ds = Dataset()
    ds.PatientID = "P9"
    ds.PatientName = "Roe^Rita"
    ctx = Context(key=KEY)
    state = fn.prepare(ds, ctx, needs=("patient",))
    assert state._terms is None and state.patient == "id:|P9"
    assert "Roe" in state.terms  # computed when first read
    assert fn.prepare(ds, ctx) is state
    state.release()
    assert state._ds is None


def test_dummy_is_marked_vr_constant_but_not_for_uids_and_names():
    assert "DA" in fn.ps315_dummy.deid_vr_constant
    assert not {"UI", "PN"} & fn.ps315_dummy.deid_vr_constant
    assert fn.ps315_uid.deid_light_element is True
