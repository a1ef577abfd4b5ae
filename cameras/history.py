"""Every release kept in the database, as camera versions.

A ``CameraVersion`` row is one camera exactly as it went into a run of consecutive releases
(``first_release`` .. ``last_release``; ``last_release`` is NULL while the camera is unchanged
in the latest release). Publishing release N compares its table with release N-1's:

- a camera that is new, or whose published values changed, gets a new row from N;
- the open row of a camera that changed or left is closed at N-1.

So the rows of release N are ``first_release <= N AND (last_release IS NULL OR
last_release >= N)``, ordered by camera id, and ``cameras.releases.rebuild_snapshot`` turns
them back into the byte-identical snapshot file. A release costs one row per changed camera,
not one per camera. Values are compared bit for bit (so -0.0 and 0.0, or two NaN payloads,
are different values); NaN floats are stored as NULL, as the snapshot reader maps NULL back
to NaN.

Releases published before the history was kept have ``Release.history = False``; the next
publish then records every camera of the new release, and every release from it on can be
rebuilt.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from exporters.schema import SNAPSHOT_COLUMNS

from .models import CameraVersion, Release

INSERT_CHUNK_ROWS = 20_000
UPDATE_CHUNK_IDS = 5_000

# Snapshot column -> CameraVersion column.
_FIELDS = {name: ("camera_id" if name == "id" else name) for name in SNAPSHOT_COLUMNS}
_FLOAT_BITS = {"float64": np.int64, "float32": np.int32}


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(name: str) -> str:
    return _qn(CameraVersion._meta.get_field(_FIELDS[name]).column)


def rows_sql() -> str:
    """SELECT of one release's rows (parameters: the number twice), snapshot columns in order."""
    table = _qn(CameraVersion._meta.db_table)
    first, last = _qn("first_release"), _qn("last_release")
    columns = ", ".join(_column(name) for name in SNAPSHOT_COLUMNS)
    return (f"SELECT {columns} FROM {table} WHERE {first} <= %s AND ({last} IS NULL OR {last} >= %s) "
            f"ORDER BY {_column('id')}")


def _same_values(previous: pa.Table, current: pa.Table, pi: np.ndarray, ci: np.ndarray) -> np.ndarray:
    """For rows pi of previous and ci of current (the same ids): are all values bit-identical?"""
    same = np.ones(len(pi), dtype=bool)
    for name, dtype in SNAPSHOT_COLUMNS.items():
        if name == "id" or not len(pi):
            continue
        if dtype == "str":
            a = previous.column(name).take(pa.array(pi))
            b = current.column(name).take(pa.array(ci))
            same &= pc.equal(a, b).to_numpy(zero_copy_only=False)
            continue
        a = previous.column(name).to_numpy()[pi]
        b = current.column(name).to_numpy()[ci]
        if dtype in _FLOAT_BITS:
            a, b = a.view(_FLOAT_BITS[dtype]), b.view(_FLOAT_BITS[dtype])
        same &= a == b
    return same


def changes(previous: pa.Table | None, current: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(camera ids whose open version closes, row indices of ``current`` that get a new version)."""
    current_ids = current.column("id").to_numpy()
    if previous is None:
        return np.empty(0, dtype=np.int64), np.arange(len(current_ids))
    previous_ids = previous.column("id").to_numpy()
    common, pi, ci = np.intersect1d(previous_ids, current_ids, assume_unique=True, return_indices=True)
    same = _same_values(previous, current, pi, ci)
    gone = np.setdiff1d(previous_ids, current_ids, assume_unique=True)
    closed = np.union1d(gone, common[~same])
    unchanged = np.zeros(len(current_ids), dtype=bool)
    unchanged[ci[same]] = True
    return closed, np.flatnonzero(~unchanged)


def _python_rows(table: pa.Table, indices: np.ndarray, number: int):
    """The INSERT parameters for ``table``'s rows at ``indices``, in chunks."""
    for start in range(0, len(indices), INSERT_CHUNK_ROWS):
        part = table.take(pa.array(indices[start:start + INSERT_CHUNK_ROWS]))
        columns = []
        for name, dtype in SNAPSHOT_COLUMNS.items():
            array = part.column(name)
            if dtype in _FLOAT_BITS:
                values = array.to_numpy().astype(np.float64)
                objects = values.astype(object)
                objects[np.isnan(values)] = None  # NaN is stored as NULL (SQLite has no NaN)
                columns.append(objects.tolist())
            else:
                columns.append(array.to_pylist())
        yield [(number, *row) for row in zip(*columns)]


def record_history(number: int, previous: Release | None, previous_table: pa.Table | None,
                   table: pa.Table) -> None:
    """Record release ``number`` (whose table is ``table``) in the history, inside the
    publishing transaction. ``previous`` is the release before it, with its table."""
    versions = _qn(CameraVersion._meta.db_table)
    first, last = _qn("first_release"), _qn("last_release")
    with connection.cursor() as cursor:
        if previous is None or not previous.history:
            # No history to continue: record the whole release. Rows left from releases that
            # were deleted are dropped; the rows of older releases without history are closed.
            if previous is None:
                cursor.execute(f"DELETE FROM {versions}")
            else:
                cursor.execute(f"UPDATE {versions} SET {last} = %s WHERE {last} IS NULL", [number - 1])
            closed, added = changes(None, table)
        else:
            closed, added = changes(previous_table, table)
        ids = closed.tolist()
        for start in range(0, len(ids), UPDATE_CHUNK_IDS):
            chunk = ids[start:start + UPDATE_CHUNK_IDS]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"UPDATE {versions} SET {last} = %s WHERE {last} IS NULL AND {_column('id')} IN ({marks})",
                [number - 1, *chunk],
            )
        columns = ", ".join([first, *(_column(name) for name in SNAPSHOT_COLUMNS)])
        if connection.vendor == "postgresql":  # COPY: a first release of 200k rows in ~1 s, not ~11 s
            with cursor.cursor.copy(f"COPY {versions} ({columns}) FROM STDIN") as copy:
                for rows in _python_rows(table, added, number):
                    for row in rows:
                        copy.write_row(row)
            return
        marks = ", ".join(["%s"] * (len(SNAPSHOT_COLUMNS) + 1))
        insert = f"INSERT INTO {versions} ({columns}) VALUES ({marks})"
        for rows in _python_rows(table, added, number):
            cursor.executemany(insert, rows)


def first_rebuildable() -> int | None:
    """The number of the oldest release the history holds (every later one is held too)."""
    oldest_gap = Release.objects.filter(history=False).order_by("-number").values_list("number", flat=True).first()
    held = Release.objects.filter(history=True)
    if oldest_gap is not None:
        held = held.filter(number__gt=oldest_gap)
    return held.order_by("number").values_list("number", flat=True).first()
