"""The Sygic page model (exporters/plugins/sygic.py) against real SQLite builds: random
record layouts (section pairs with a PairId, km/h or mph files) and row counts, including the
counts where a leaf or interior page fills up."""

import numpy as np
import pytest

from exporters.plugins import sygic


def random_columns(rng, n):
    kind = rng.integers(0, 4)
    if kind == 0:
        lat, lon = rng.integers(-9_000_000, 9_000_001, n), rng.integers(-18_000_000, 18_000_001, n)
    elif kind == 1:
        lat, lon = rng.integers(-200, 200, n), rng.integers(-200, 200, n)
    elif kind == 2:
        lat, lon = rng.integers(4_000_000, 5_000_000, n), rng.integers(-100_000, 100_000, n)
    else:
        lat = rng.choice([0, 1, -1, 127, 128, -129, 32767, 32768, 8388607, 8388608, -9_000_000, 9_000_000], n)
        lon = rng.choice([0, 1, 18_000_000, -18_000_000, 70_000, -8_388_609], n)
    # sections: a start row (offset 0) and its end row (1) share a PairId; other rows -1 (NULL)
    offset = np.full(n, -1, dtype=np.int8)
    starts = np.flatnonzero(rng.random(n) < rng.random() * 0.3)
    starts = starts[starts + 1 < n]
    starts = starts[np.concatenate([[True], np.diff(starts) > 1])] if len(starts) else starts
    offset[starts], offset[starts + 1] = 0, 1
    return {"Latitude": lat.astype(np.int64), "Longitude": lon.astype(np.int64),
            "pair_offset": offset, "SpeedLimitUnits": np.full(n, int(rng.integers(0, 2)), dtype=np.int64),
            "Type": rng.choice([0, 1, 2, 4, 5, 6, 9, 11, 14], n).astype(np.int64),
            "Angle": rng.integers(0, 360, n).astype(np.int64), "angle_null": rng.random(n) < rng.random(),
            "BothWays": rng.integers(0, 2, n).astype(np.int64),
            "SpeedLimit": rng.choice([0, 1, 50, 127, 128, 130, 999], n).astype(np.int64)}


def predicted(cols):
    table_base, index_base = sygic.record_bases(cols)
    return sygic.database_pages(table_base, index_base, sygic.index_order(cols), cols["pair_offset"]) * sygic.PAGE_SIZE


def built(cols):
    """The size of the file the exporter writes (its insert path: ``insert_rows``)."""
    insert, chunks = sygic.insert_rows(cols)
    return len(sygic.build_database(chunks, None, insert))


@pytest.mark.parametrize("seed", range(6))
def test_the_page_model_equals_real_builds_for_random_sets(seed):
    rng = np.random.default_rng(seed)
    for n in [0, 1, 2] + rng.integers(3, 3_000, 12).tolist() + [int(rng.integers(3_000, 60_000))]:
        cols = random_columns(rng, n)
        assert predicted(cols) == built(cols), f"seed {seed}, {n} rows"


def test_the_page_model_equals_real_builds_around_the_first_page_splits():
    rng = np.random.default_rng(99)
    cols = random_columns(rng, 700)
    firsts = []
    for n in range(100, 700, 2):  # counts across the first leaf and index splits
        part = {k: v[:n] for k, v in cols.items()}
        firsts.append(predicted(part) == built(part))
    assert all(firsts)


def test_the_page_model_equals_a_real_build_of_100000_rows():
    cols = random_columns(np.random.default_rng(5), 100_000)
    assert predicted(cols) == built(cols)
