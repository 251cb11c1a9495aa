"""Property-based tests of every registered kind's config (#18 must-show): any settings dict ends in
a valid config or in the project's own error with a one-line message, never another exception.

The settings are drawn per field from its type: values near the default, extremes (±2⁷⁰, 10⁹,
NaN, ±inf), wrong types (text for numbers, numbers for text, lists for scalars, None) and the
names the configs know (methods, datasets, models). A valid config must survive its own record:
``make_config(kind, json(config))`` gives the same config (what the run store keeps re-validates).
Run with ``-s`` to print the count of examples, valid configs and failures per kind.
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import registry
from engine.config import Config
from engine.errors import SparsityLabError

EXAMPLES = 300
COUNTS: dict[str, list[int]] = {}
KINDS = sorted(registry.KINDS)

fuzz = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _known_strings() -> list[str]:
    from engine.sparse.methods.registry import METHODS
    from engine.sparse.shapes import DATASETS, MODELS

    out = set(METHODS) | set(DATASETS) | set(MODELS)
    for kind in KINDS:
        cls, _ = registry.get(kind)
        for f in dataclasses.fields(cls):
            if isinstance(f.default, str):
                out.add(f.default)
            if isinstance(f.default, tuple):
                out.update(v for v in f.default if isinstance(v, str))
    return sorted(out | {"", "/nonexistent", "/tmp", "/dev/null", "2:4", "1:0", "0:4", "[x](http://e/)", "é" * 300})


STRINGS = _known_strings()
ints = st.one_of(st.integers(-3, 300), st.sampled_from([0, 1, 2, 10**6, 10**9, 2**31, 2**32, 2**63, -1]),
                 st.integers(-2**70, 2**70))
floats = st.one_of(st.floats(-2, 2), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, 1.0, 0.5, 1e-12, 1e308, -0.0]))
strings = st.one_of(st.sampled_from(STRINGS), st.text(max_size=12))
scalars = st.one_of(ints, floats, strings, st.booleans(), st.none())


def _value(f: dataclasses.Field) -> st.SearchStrategy:
    kind, default = str(f.type), f.default
    if kind == "int":
        typed = ints
    elif kind == "float":
        typed = st.one_of(floats, ints)
    elif kind == "bool":
        typed = st.booleans()
    elif kind == "str":
        typed = strings
    elif kind.startswith("tuple"):
        inner = st.one_of(ints, floats, strings) if "..." in kind else scalars
        if "int" in kind:
            inner = st.one_of(ints, st.integers(1, 64))
        elif "float" in kind:
            inner = st.one_of(floats, st.floats(0, 0.99))
        elif "str" in kind:
            inner = strings
        typed = st.lists(inner, max_size=6).map(tuple)
    elif kind == "dict":
        typed = st.dictionaries(strings, scalars, max_size=3)
    else:
        typed = scalars
    near = [st.just(default)] if default is not dataclasses.MISSING else []
    return st.one_of(*near, typed, typed, scalars)  # mostly well-typed, sometimes anything


@st.composite
def settings_of(draw, cls: type[Config]) -> dict:
    data = {}
    one_in = draw(st.sampled_from([2, 6, 20]))  # how many fields change: about half, a few, one or two
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required or draw(st.integers(0, one_in - 1)) == 0:
            data[f.name] = draw(_value(f))
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.text(min_size=1, max_size=8))] = draw(scalars)  # an unknown setting
    return data


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    for name, (n, ok, bad) in sorted(COUNTS.items()):
        print(f"\n{name if name.startswith('loader') else 'config ' + name}: {n} examples, {ok} valid, {n - ok - bad} refused (one line), {bad} failures")


@pytest.mark.parametrize("kind", KINDS)
def test_any_settings_end_in_a_valid_config_or_a_one_line_error(kind):
    cls, _ = registry.get(kind)

    @fuzz
    @given(data=settings_of(cls))
    def check(data):
        counts = COUNTS.setdefault(kind, [0, 0, 0])
        counts[0] += 1
        try:
            try:
                config = registry.make_config(kind, data)
            except SparsityLabError as err:
                msg = str(err)
                assert msg and "\n" not in msg and "Traceback" not in msg, msg
                return
            assert isinstance(config, Config)
            again = registry.make_config(kind, json.loads(config.to_json()))
            assert again.to_json() == config.to_json()
            counts[1] += 1
        except Exception:  # noqa: BLE001 - counted, then re-raised so hypothesis shrinks it
            counts[2] += 1
            raise

    check()


# -- the sparse lab's own-table reader (the app's upload check and the CSV pre-flight) --------------
CSV_TOKENS = ["1", "-1", "0", "1.5", "1e308", "-1e308", "1e39", "nan", "inf", "", "a", "yes", "no", ",", ";", '"',
              "\n", "\t", "label", "y", "\ufeff", "9" * 30, "\x00", "#", " "]


@st.composite
def table_bytes(draw) -> bytes:
    rows = ["f1,f2,label"] + [f"{i * 0.1:.2f},{(i % 7) - 3},{'yes' if i % 3 else 'no'}" for i in range(30)]
    text = "\n".join(rows) + "\n"
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "dup"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(CSV_TOKENS)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)):]
        else:
            text = text[:at] + text[at:at + draw(st.integers(1, 60))] + text[at:]
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.binary(max_size=300))
    return data


@fuzz
@given(blob=table_bytes(), label=st.sampled_from(["", "label", "y", "nope"]))
def test_sparse_csv_table_reader(blob, label):
    from engine.sparse.table import read_csv_table

    counts = COUNTS.setdefault("loader: sparse CSV table", [0, 0, 0])
    counts[0] += 1
    try:
        try:
            table = read_csv_table(blob, label, name="t.csv")
        except SparsityLabError as err:
            assert str(err) and "\n" not in str(err), str(err)
            return
        assert len(table.x) == len(table.y) >= 20 and len(table.class_names) >= 2
        assert np.isfinite(table.x).all()
        counts[1] += 1
    except Exception:  # noqa: BLE001
        counts[2] += 1
        raise
