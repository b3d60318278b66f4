"""deid.engine.functions: registry and the built-in deid_func functions."""

from __future__ import annotations

import uuid

import pydicom
import pytest
from pydicom.dataelem import DataElement

from deid.engine.context import Context
from deid.engine.functions import (
    BUILTINS,
    basic_uuid,
    dicom_uuid,
    get_function,
    jitter,
    parse_extras,
    pydicom_uuid,
    register,
    registered,
    suffix_uuid,
    unregister,
)
from deid.engine.walk import Field


def field(tag: int, vr: str, value, name: str = "X") -> Field:
    return Field(DataElement(tag, vr, value), name, f"({tag >> 16:04X},{tag & 0xFFFF:04X})")


def test_builtins_registered() -> None:
    for name in BUILTINS:
        assert get_function(name) is not None
    assert get_function("pydicom_uuid").context is True


def test_register_and_unregister() -> None:
    @register()
    def my_test_func(**kwargs):
        return 1

    assert registered()["my_test_func"].func is my_test_func
    with pytest.raises(ValueError):
        register("my_test_func", replace=False)(my_test_func)
    unregister("my_test_func")
    assert get_function("my_test_func") is None


def test_parse_extras() -> None:
    assert parse_extras((("a", "TRUE"), ("b", "null"), ("c", "x=y"))) == {
        "a": True,
        "b": None,
        "c": "x=y",
    }


def test_pydicom_uuid_matches_upstream() -> None:
    f = field(0x0020000D, "UI", "1.2.3.4")
    assert pydicom_uuid(field=f) == pydicom.uid.generate_uid("2.25.", entropy_srcs=["1.2.3.4"])
    assert pydicom_uuid(field=f, prefix="1.2.") == pydicom.uid.generate_uid(
        "1.2.", entropy_srcs=["1.2.3.4"]
    )
    assert pydicom_uuid(field=f, stable_remapping=False) != pydicom_uuid(
        field=f, stable_remapping=False
    )
    assert pydicom_uuid(field="StudyInstanceUID").startswith("2.25.")  # under ADD


def test_pydicom_uuid_keyed() -> None:
    from deid.engine import keys

    ctx = Context(key=keys.Key.from_text("a-long-enough-secret"))
    f = field(0x0020000D, "UI", "1.2.3.4")
    uid = pydicom_uuid(field=f, context=ctx)
    assert uid == keys.keyed_uid(ctx.key, "1.2.3.4") and ctx.uid_map == {"1.2.3.4": uid}
    assert uid != pydicom_uuid(field=f)


def test_uuid_functions() -> None:
    assert dicom_uuid().startswith("anonymous-organization.") and len(dicom_uuid()) <= 64
    assert dicom_uuid(org_root="1.2.3").startswith("1.2.3.")
    uuid.UUID(basic_uuid())
    assert suffix_uuid(field=field(0x00100020, "LO", "1", "PatientID")).startswith("patientid-")


def test_jitter_function() -> None:
    f = field(0x00080020, "DA", "20230101")
    assert jitter(field=f) == "20230102"
    assert jitter(field=f, days="-1", years="1") == "20231231"
    assert jitter(field=field(0x00080030, "TM", "1200")) is None
    assert jitter(field=field(0x00080020, "DA", "")) == ""
    assert jitter(field="StudyDate") is None


def test_builtins_accept_upstream_extras_string() -> None:
    f = field(0x0020000D, "UI", "1.2.3.4")
    assert pydicom_uuid(
        item={},
        value="deid_func:pydicom_uuid prefix=1.2.",
        field=f,
        dicom=None,
        extras="prefix=1.2.",
    ) == pydicom.uid.generate_uid("1.2.", entropy_srcs=["1.2.3.4"])
    assert jitter(field=field(0x00080020, "DA", "20230101"), extras="days=2 years=1") == "20240103"
    assert dicom_uuid(extras="org_root=9.9").startswith("9.9.")


@pytest.mark.parametrize("prefix", ["2.25.", "1.2.826.0.1.3680043.10.", "0."])
def test_check_uid_prefix_accepts_roots(prefix) -> None:
    from deid.engine.functions import check_uid_prefix

    assert check_uid_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["abc", "1.2", "01.2.", "1..2.", "1." * 30])
def test_check_uid_prefix_refuses_the_rest(prefix) -> None:
    from deid.engine.functions import FunctionArgumentError, check_uid_prefix
    from deid.errors import DeidError

    with pytest.raises(FunctionArgumentError, match="not a valid UID root") as info:
        check_uid_prefix(prefix)
    assert isinstance(info.value, DeidError) and isinstance(info.value, ValueError)


def test_pydicom_uuid_bad_prefix_raises_a_deid_error() -> None:
    from deid.engine.functions import FunctionArgumentError, check_arguments, pydicom_uuid

    f = Field(DataElement(0x0020000D, "UI", "1.2.3"), "StudyInstanceUID", "(0020,000D)")
    with pytest.raises(FunctionArgumentError):
        pydicom_uuid(field=f, prefix="1.2.3")
    with pytest.raises(FunctionArgumentError):
        check_arguments("jitter", {"days": "soon"})
    check_arguments("jitter", {"days": "-3"})
