"""deid.engine.context: per-file lookups."""

from __future__ import annotations

import pickle

from deid.engine.context import MISSING, Context


def test_lookups() -> None:
    def f(**kw):
        return 1

    def g(**kw):
        return 2

    ctx = Context({"a": 1, "f": f, "g": "not callable"}, functions={"g": g})
    assert ctx.lookup_variable("a") == 1
    assert ctx.lookup_variable("zzz") is MISSING
    assert ctx.lookup_function("f") is f and ctx.lookup_function("g") is g
    assert ctx.lookup_function("a") is None


def test_defaults_and_key() -> None:
    ctx = Context()
    assert ctx.variables == {} and ctx.functions == {} and ctx.keyed() is None
    assert Context(key="0123456789abcdef").keyed().secret == b"0123456789abcdef"
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING


def test_keyed_is_derived_once_per_key_text() -> None:
    a = Context(key="context test key 0123456789").keyed()
    b = Context(key="context test key 0123456789").keyed()
    assert a is b and a.secret == b"context test key 0123456789"
    assert Context().keyed() is None
