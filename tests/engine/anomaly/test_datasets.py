"""Data loaders and repairs: bad input gets a clear DataError or a documented repair."""
from __future__ import annotations

import numpy as np
import pytest

from engine.anomaly.datasets import (TimeSeriesData, check_ready, clean, list_smap_channels,
                                     list_smd_machines, load_csv, load_smap, load_smd, prepared)
from engine.errors import DataError
from engine.paths import shared_data_dir


def _data(train, test, labels=None, names=None):
    n = np.asarray(train).shape[1]
    return TimeSeriesData("t", np.asarray(train, float), np.asarray(test, float), labels,
                          names or [f"c{i}" for i in range(n)])


def test_nan_and_inf_are_forward_filled_and_noted():
    x, notes = clean(np.array([[1.0, 2.0], [np.nan, np.inf], [3.0, -np.inf]]), "test data")
    assert x.tolist() == [[1.0, 2.0], [1.0, 2.0], [3.0, 2.0]]
    assert "3 NaN/infinite" in notes[0]


def test_leading_nan_is_back_filled_and_empty_channel_becomes_zero():
    x, notes = clean(np.array([[np.nan, np.nan], [5.0, np.nan]]), "train")
    assert x.tolist() == [[5.0, 0.0], [5.0, 0.0]]
    assert "no finite value" in notes[0]


def test_constant_channel_is_kept_and_scaled_by_one():
    d = prepared(_data([[0.0, 7.0], [1.0, 7.0], [2.0, 7.0]], [[1.0, 8.0], [2.0, 7.0], [0.0, 7.0]]), 2)
    assert np.allclose(d.train[:, 1], 0.0) and np.allclose(d.test[:, 1], [1.0, 0.0, 0.0])
    assert any("Constant channel" in n for n in d.notes)


def test_fewer_rows_than_window_is_a_clear_error():
    with pytest.raises(DataError, match="fewer than the window"):
        prepared(_data(np.zeros((5, 2)), np.zeros((50, 2))), 10)


def test_mismatched_label_length_is_a_clear_error():
    with pytest.raises(DataError, match="labels for 20 test rows"):
        check_ready(_data(np.zeros((20, 2)), np.zeros((20, 2)), np.zeros(19, np.int8)), 5)


def test_one_channel_is_accepted_with_a_note():
    d = prepared(_data(np.random.default_rng(0).random((30, 1)), np.random.default_rng(1).random((30, 1))), 5)
    assert d.n_channels == 1 and any("One channel" in n for n in d.notes)


def test_csv_reads_channels_labels_and_drops_time_column():
    text = "timestamp,a,b,label\n" + "".join(f"2024-01-01 00:{i:02d},{i},{2 * i},{int(i == 7)}\n" for i in range(10))
    d = load_csv(text.encode(), train_fraction=0.5)
    assert d.channel_names == ["a", "b"] and d.train.shape == (5, 2) and d.test.shape == (5, 2)
    assert d.labels.tolist() == [0, 0, 1, 0, 0]


def test_csv_with_text_column_is_a_clear_error():
    with pytest.raises(DataError, match="contain no numbers"):
        load_csv(b"a,b\n1,x\n2,y\n3,z\n4,w\n")


def test_csv_stray_text_cells_become_missing_and_are_filled():
    d = prepared(load_csv(b"a,b\n1,2\n2,oops\n3,4\n4,5\n5,6\n6,7\n"), 2)
    assert np.isfinite(d.train).all() and any("non-numeric" in n for n in d.notes)


def test_csv_label_column_must_be_binary():
    with pytest.raises(DataError, match="only 0 and 1"):
        load_csv(b"a,label\n1,0\n2,5\n3,0\n4,0\n")


def test_unreadable_csv_is_a_clear_error():
    with pytest.raises(DataError):
        load_csv(b"")


SMD = shared_data_dir() / "SMD" if shared_data_dir() else None
SMAP = shared_data_dir() / "SMAP" if shared_data_dir() else None


@pytest.mark.skipif(SMD is None or not SMD.is_dir(), reason="SMD benchmark data not present")
def test_smd_machine_loads_with_labels_and_interpretation():
    assert "machine-1-2" in list_smd_machines(SMD)
    d = load_smd(SMD, "machine-1-2")
    assert d.train.shape[1] == d.test.shape[1] == 38 and len(d.labels) == len(d.test)
    assert d.segments and all(0 <= c < 38 for s in d.segments for c in s.channels)
    assert all(d.labels[s.start:s.end].all() for s in d.segments)
    with pytest.raises(DataError, match="not found"):
        load_smd(SMD, "machine-9-9")


@pytest.mark.skipif(SMAP is None or not SMAP.is_dir(), reason="SMAP benchmark data not present")
def test_smap_channel_loads_with_inclusive_segments_and_drops_p2():
    chans = list_smap_channels(SMAP)
    assert "P-1" in chans and "P-2" not in chans
    d = load_smap(SMAP, "P-1")
    assert d.train.shape[1] == 25 and len(d.labels) == len(d.test)
    assert d.labels[2149] == 1 and d.labels[2349] == 1 and d.labels[2350] == 0
