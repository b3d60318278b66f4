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

KEY = "functions test key 0123456789"


def field(ds, keyword, uid=None):
    elem = ds[keyword]
    return Field(elem, keyword, uid or f"({elem.tag.group:04X},{elem.tag.element:04X})")


def call(func, ds, f, ctx):
    return func(dicom=ds, value="func:x", field=f, item={}, context=ctx)


def test_registered_with_context():
    for name in (
        "ps315_dummy",
        "ps315_uid",
        "ps315_pseudonym",
        "ps315_name",
        "ps315_shift",
        "ps315_clean_text",
        "ps315_private_unsafe",
    ):
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
