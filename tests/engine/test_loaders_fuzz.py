"""Property-based tests of every file loader: any input ends in a valid result or in the project's
own error type with a one-line message (issue: bad input, limits and faults).

Bounded (``max_examples`` per loader, no deadline) so the suite stays quick; the inputs are
mutations of a valid file (flipped bytes, cut lines, injected text and numbers) and raw bytes.
Run with ``-s`` to print the count of examples and failures per loader.
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import SparsityLabError

EXAMPLES = 120
COUNTS: dict[str, list[int]] = {}

fuzz = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

TOKENS = [b"1", b"-1", b"0", b"1.0", b"1e308", b"-1e308", b"nan", b"inf", b"", b"a", b"\xff\xfe",
          b"\x00", b",", b";", b"\t", b" ", b"\n", b"#", b"label", b"time", b"1,2", b"[[0, 1]]",
          b"\xef\xbb\xbf", b"9" * 30, b'"', b"SMAP", b"<", b"{"]


@st.composite
def mutated(draw, valid: bytes) -> bytes:
    """A valid file with a few edits: delete, duplicate or replace a slice, insert tokens."""
    data = bytearray(draw(st.sampled_from([valid, valid[: len(valid) // 2], b""])))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["insert", "delete", "flip", "dup"]))
        at = draw(st.integers(0, len(data))) if data else 0
        if op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "delete" and data:
            del data[at: at + draw(st.integers(1, 8))]
        elif op == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "dup":
            data[at:at] = data[at: at + draw(st.integers(1, 40))]
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        data = bytearray(draw(st.binary(max_size=200)))
    return bytes(data)


def _check(loader: str, fn) -> None:
    """Run one example: a result, or a SparsityLabError whose message is one line."""
    counts = COUNTS.setdefault(loader, [0, 0])
    counts[0] += 1
    try:
        fn()
    except SparsityLabError as err:
        msg = str(err)
        assert msg and "\n" not in msg and "Traceback" not in msg, msg
    except Exception:  # noqa: BLE001 - counted, then re-raised so hypothesis shrinks it
        counts[1] += 1
        raise


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    for name, (n, bad) in sorted(COUNTS.items()):
        print(f"\n{name}: {n} examples, {bad} unexpected exceptions")


EDGES = b"# graph\n1 2\n2 3\n3 1\n3 4\n4 5\n"


@fuzz
@given(data=mutated(EDGES))
def test_edge_list_reader(data):
    from engine.graphs.io import read_edge_list

    def load():
        g = read_edge_list(data, name="fuzz.txt")
        assert g.n_edges >= 1 and g.edges.max() < g.n_nodes
    _check("edge list", load)


SERIES = b"time,a,b,label\n" + b"".join(b"%d,%d.5,%d,%d\n" % (i, i % 7, (3 * i) % 5, i % 9 == 0)
                                          for i in range(40))


@fuzz
@given(data=mutated(SERIES))
def test_time_series_csv(data):
    from engine.anomaly.datasets import clean, load_csv

    def load():
        ts = load_csv(data)
        clean(ts.train, "training data")
        clean(ts.test, "test data")
    _check("time-series CSV", load)


SMD_ROWS = b"".join(b"%.3f,%.3f,%.3f\n" % (i / 50, (i % 5) / 5, 0.5) for i in range(30))


@fuzz
@given(train=mutated(SMD_ROWS), labels=mutated(b"0\n" * 29 + b"1\n"), interp=mutated(b"3-6:1,2\n"))
def test_smd_folder(tmp_path_factory, train, labels, interp):
    from engine.anomaly.datasets import load_smd

    root = tmp_path_factory.mktemp("smd")
    for part, blob in (("train", train), ("test", SMD_ROWS), ("test_label", labels),
                       ("interpretation_label", interp)):
        (root / part).mkdir()
        (root / part / "machine-1-1.txt").write_bytes(blob)
    _check("SMD folder", lambda: load_smd(root, "machine-1-1"))


def _npy(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


TABLE = b"chan_id,spacecraft,anomaly_sequences,class,num_values\nA-1,SMAP,\"[[2, 5]]\",[point],20\n"


@fuzz
@given(table=mutated(TABLE), npy=mutated(_npy(np.arange(40, dtype=np.float64).reshape(20, 2))),
       gz=st.booleans())
def test_smap_folder(tmp_path_factory, table, npy, gz):
    from engine.anomaly.datasets import load_smap

    root = tmp_path_factory.mktemp("smap")
    (root / "labeled_anomalies.csv").write_bytes(table)
    for part in ("train", "test"):
        (root / part).mkdir()
        name, blob = ("A-1.npy.gz", gzip.compress(npy)) if gz else ("A-1.npy", npy)
        (root / part / name).write_bytes(blob)
    _check("SMAP folder", lambda: load_smap(root, "A-1"))


def _idx(dims: tuple[int, ...], body: bytes) -> bytes:
    return bytes([0, 0, 8, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims) + body


@fuzz
@given(blob=st.one_of(mutated(_idx((3, 2, 2), bytes(12))),
                      st.builds(_idx, st.lists(st.sampled_from([0, 1, 2, 3, 2**16, 2**31, 2**32 - 1]),
                                               min_size=1, max_size=4).map(tuple),
                                st.binary(max_size=24))))
def test_idx_file(tmp_path_factory, blob):
    pytest.importorskip("torch")
    from engine.sparse.data import read_idx

    path = Path(tmp_path_factory.mktemp("idx")) / "train-images-idx3-ubyte"
    path.write_bytes(blob)

    def load():
        a = read_idx(path)
        assert a.size > 0
    _check("IDX file", load)


def test_known_bad_files_get_one_line_messages(tmp_path):
    """The fuzz failures found before the fix, as plain regression cases."""
    from engine.anomaly.datasets import clean, load_csv, load_smap, load_smd
    from engine.sparse.data import read_idx

    (tmp_path / "smd" / "train").mkdir(parents=True)
    for part in ("test", "test_label"):
        (tmp_path / "smd" / part).mkdir()
    (tmp_path / "smd" / "train" / "machine-1-1.txt").write_bytes(b"1,2\n3,4,5,6,7\n\xff\xfe\n")
    (tmp_path / "smd" / "test" / "machine-1-1.txt").write_bytes(b"1,2\n3,4\n")
    (tmp_path / "smd" / "test_label" / "machine-1-1.txt").write_bytes(b"0\n1\n")
    with pytest.raises(SparsityLabError, match="SMD training file"):
        load_smd(tmp_path / "smd", "machine-1-1")
    (tmp_path / "smap" / "train").mkdir(parents=True)
    (tmp_path / "smap" / "labeled_anomalies.csv").write_text("chan_id,anomaly_sequences\nA-1,[[1, 2]]\n")
    with pytest.raises(SparsityLabError, match="spacecraft"):
        load_smap(tmp_path / "smap", "A-1")
    big = load_csv(b"a,b\n" + b"1e308,1\n" * 10)
    with pytest.raises(SparsityLabError, match="32-bit"):
        clean(big.train, "training data")
    for dims in ((0, 28, 28), (2**16, 2**16, 2**16, 2**16)):     # no items; a product that wraps
        (tmp_path / "x-idx3-ubyte").write_bytes(_idx(dims, b""))
        with pytest.raises(SparsityLabError):
            read_idx(tmp_path / "x-idx3-ubyte")
