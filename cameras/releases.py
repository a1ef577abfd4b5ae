"""Numbered, immutable releases of the active cameras.

``publish_release()`` freezes every active camera into a Parquet snapshot in the file store
(``cameras.storage``: ``settings.RELEASES_DIR`` by default) (columns exactly ``exporters.schema.SNAPSHOT_COLUMNS``) and records a
``Release`` row with the file's sha256, counts and a changelog against the previous release.
``load_snapshot()`` reads a snapshot back as a ``pyarrow.Table`` for the exporters.

Snapshot file
    ``release-000007.parquet``: one row group, rows sorted by id, zstd compression with
    dictionary encoding for the string columns. No column holds nulls: unknown speeds are 0,
    a missing heading or end point is NaN (see ``SNAPSHOT_COLUMNS``). The bytes depend only on
    the cameras (and the pyarrow version, which the writer records in ``created_by``), so the
    same cameras give a byte-identical file and the same sha256. Files are made read-only and
    are never overwritten.

Order of writes
    The file is written to a temporary name first. Then, in one transaction, the number is
    taken (``Release.number`` is unique), the row is inserted and the file is placed in the
    store under its final name (``cameras.storage``: a hard link on the disk, which fails rather
    than replace an existing file; an upload to a temporary key and a copy in an object store). If anything fails before the
    commit the file is removed again, so no row points at a missing file and no file is left
    without a row. Only a crash of the process between the link and the commit can leave an
    orphan file behind; the next publish then stops with a clear error naming it.

Concurrency
    Two publishers may read the same latest release and try the same number. The unique
    constraint makes the second insert fail (on PostgreSQL it waits for the first transaction,
    on SQLite the IMMEDIATE transaction mode serialises writers); the loser retries with the
    next number and recomputes its changelog against the release that just won. The snapshot
    itself does not depend on the number, so it is written once.

Empty releases
    With no active cameras ``publish_release()`` raises ``EmptyReleaseError`` unless it is called
    with ``allow_empty=True`` (the command's ``--allow-empty``): shipping empty camera files to
    customers is almost certainly a mistake upstream.

Do not call ``publish_release()`` inside an outer ``transaction.atomic()`` block: if the
outer transaction rolls back after the publish returned, the snapshot file stays behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from tqdm import tqdm

from exporters.i18n import gettext, ngettext, number
from exporters.schema import SNAPSHOT_COLUMNS, CameraType

from . import history
from .distance import haversine_m
from .models import Camera, Release
from .signals import release_published
from .storage import get_store

__all__ = [
    "ReleaseError",
    "EmptyReleaseError",
    "SnapshotError",
    "SNAPSHOT_SCHEMA",
    "CHANGELOG_LIST_CAP",
    "publish_release",
    "load_snapshot",
    "snapshot_path",
    "snapshot_name",
    "read_active_cameras",
    "compute_counts",
    "compute_changelog",
    "changelog_text",
    "rebuild_snapshot",
    "restore_snapshot",
]

# Each id list stored in Release.changelog holds at most this many entries (the smallest ids);
# the summary and by_country counts are always complete.
CHANGELOG_LIST_CAP = 50_000
CHANGE_KEYS = ("added", "removed", "moved", "speed_changed", "type_changed")
PUBLISH_ATTEMPTS = 5
READ_CHUNK_ROWS = 50_000

_STRING_COLUMNS = [name for name, dtype in SNAPSHOT_COLUMNS.items() if dtype == "str"]


def _arrow_type(dtype: str) -> pa.DataType:
    return pa.string() if dtype == "str" else pa.from_numpy_dtype(np.dtype(dtype))


# Every column is non-nullable: nulls are mapped to 0 / NaN / "" before writing.
SNAPSHOT_SCHEMA = pa.schema([pa.field(name, _arrow_type(dtype), nullable=False) for name, dtype in SNAPSHOT_COLUMNS.items()])

# Fill value for a database NULL, per snapshot column.
_NULL_FILL = {
    "speed": 0,
    "truck_speed": 0,
    "reports": 0,
    "heading": float("nan"),
    "end_lat": float("nan"),
    "end_lon": float("nan"),
}
_PARQUET_OPTIONS = dict(
    compression="zstd",
    use_dictionary=_STRING_COLUMNS,
    write_statistics=True,
)

_TYPE_SLUGS = {t.value: t.slug for t in CameraType}


class ReleaseError(Exception):
    """A release cannot be published."""


class EmptyReleaseError(ReleaseError):
    """There are no active cameras (pass allow_empty=True to publish an empty release)."""


class SnapshotError(ReleaseError):
    """A snapshot file is missing, corrupt or does not match its checksum or the schema."""


# ---------------------------------------------------------------------------------------------
# Paths


def snapshot_name(number: int) -> str:
    return f"release-{number:06d}.parquet"


def snapshot_store_name(file_name: str) -> str:
    return f"releases/{file_name}"


def snapshot_path(release: Release) -> Path:
    """Where the snapshot is on the local disk (the store's local copy with an object store)."""
    store = get_store()
    name = snapshot_store_name(release.snapshot)
    return store.local_path(name) if store.remote else store.path(name)


# ---------------------------------------------------------------------------------------------
# Reading the database


def read_active_cameras() -> pa.Table:
    """All active cameras as a snapshot table, sorted by id: one raw query, no model instances."""
    meta = Camera._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(name).column) for name in SNAPSHOT_COLUMNS)
    sql = (
        f"SELECT {columns} FROM {qn(meta.db_table)} "
        f"WHERE {qn(meta.get_field('status').column)} = %s ORDER BY {qn(meta.pk.column)}"
    )
    return _read_table(sql, [Camera.Status.ACTIVE])


def _read_table(sql: str, params: list) -> pa.Table:
    """The rows of a query selecting the snapshot columns in order, as a snapshot table."""
    batches = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # In chunks: Python tuples cost far more memory than the Arrow columns they become.
        while rows := cursor.fetchmany(READ_CHUNK_ROWS):
            batches.append(_rows_to_batch(rows))
    if not batches:
        return SNAPSHOT_SCHEMA.empty_table()
    return pa.Table.from_batches(batches, schema=SNAPSHOT_SCHEMA).combine_chunks()


def _rows_to_batch(rows) -> pa.RecordBatch:
    arrays = []
    for (name, dtype), column in zip(SNAPSHOT_COLUMNS.items(), zip(*rows)):
        if dtype == "str":
            array = pa.array(column, type=pa.string())
            fill = ""
        elif dtype.startswith("float"):
            # Read as float64 (the database's type), then narrow: heading is float32.
            array = pa.array(column, type=pa.float64())
            fill = float("nan")
        else:
            array = pa.array(column, type=pa.int64())
            fill = _NULL_FILL.get(name, 0)
        if array.null_count:
            array = array.fill_null(fill)
        arrays.append(array.cast(_arrow_type(dtype)))
    return pa.RecordBatch.from_arrays(arrays, schema=SNAPSHOT_SCHEMA)


# ---------------------------------------------------------------------------------------------
# Counts and changelog


def _value_counts(array) -> dict:
    if len(array) == 0:
        return {}
    counts = pc.value_counts(array)
    pairs = zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())
    return dict(sorted(pairs))


def compute_counts(table: pa.Table) -> dict:
    """{'country': {cc: n}, 'type': {slug: n}, 'kind': {'fixed': n, 'mobile': n}}."""
    types = table.column("type").to_numpy()
    codes, numbers = np.unique(types, return_counts=True)
    kinds = table.column("kind").to_numpy()
    mobile = int(np.count_nonzero(kinds == 1))
    return {
        "country": _value_counts(table.column("country")),
        "type": {_TYPE_SLUGS.get(int(c), str(int(c))): int(n) for c, n in zip(codes, numbers)},
        "kind": {"fixed": len(kinds) - mobile, "mobile": mobile},
    }


def _slug(code: int) -> str:
    return _TYPE_SLUGS.get(int(code), str(int(code)))


def _speed(value: int):
    return int(value) or None


def compute_changelog(previous: pa.Table | None, current: pa.Table, previous_number: int | None,
                      moved_threshold_m: float, cap: int = CHANGELOG_LIST_CAP) -> dict:
    """Changes from ``previous`` to ``current`` (both snapshot tables sorted by id).

    With no previous release everything counts as added. A camera is moved when its point is
    more than ``moved_threshold_m`` metres (haversine) from where it was. Speeds in the lists
    are km/h with None for unknown; types are slugs; distances are metres rounded to 0.1.
    Changes are attributed to the camera's current country (removed ones to their last one).
    """
    if previous is None:
        previous = SNAPSHOT_SCHEMA.empty_table()
    cur_ids = current.column("id").to_numpy()
    prev_ids = previous.column("id").to_numpy()
    _common, ip, ic = np.intersect1d(prev_ids, cur_ids, assume_unique=True, return_indices=True)

    added = np.ones(len(cur_ids), dtype=bool)
    added[ic] = False
    removed = np.ones(len(prev_ids), dtype=bool)
    removed[ip] = False

    def both(name):
        return previous.column(name).to_numpy()[ip], current.column(name).to_numpy()[ic]

    plat, clat = both("lat")
    plon, clon = both("lon")
    distance = haversine_m(plat, plon, clat, clon)
    moved = distance > moved_threshold_m
    pspeed, cspeed = both("speed")
    speed_changed = pspeed != cspeed
    ptype, ctype = both("type")
    type_changed = ptype != ctype

    # Indices into the current table (or the previous one for removals), per change kind.
    cur_index = {
        "added": np.flatnonzero(added),
        "moved": ic[moved],
        "speed_changed": ic[speed_changed],
        "type_changed": ic[type_changed],
    }
    removed_index = np.flatnonzero(removed)

    summary = {key: 0 for key in CHANGE_KEYS}
    by_country: dict[str, dict[str, int]] = {}
    for key in CHANGE_KEYS:
        if key == "removed":
            index, countries = removed_index, previous.column("country")
        else:
            index, countries = cur_index[key], current.column("country")
        summary[key] = int(len(index))
        if len(index):
            for cc, n in _value_counts(countries.take(pa.array(index))).items():
                by_country.setdefault(cc, {k: 0 for k in CHANGE_KEYS})[key] = n

    # Lists (capped; the indices are in id order since both tables are sorted by id).
    take = slice(0, cap)
    lists = {
        "added": cur_ids[cur_index["added"][take]].tolist(),
        "removed": prev_ids[removed_index[take]].tolist(),
        "moved": [[int(i), round(float(m), 1)] for i, m in zip(cur_ids[ic[moved]][take], distance[moved][take])],
        "speed_changed": [
            [int(i), _speed(o), _speed(n)]
            for i, o, n in zip(cur_ids[ic[speed_changed]][take], pspeed[speed_changed][take], cspeed[speed_changed][take])
        ],
        "type_changed": [
            [int(i), _slug(o), _slug(n)]
            for i, o, n in zip(cur_ids[ic[type_changed]][take], ptype[type_changed][take], ctype[type_changed][take])
        ],
    }
    return {
        "previous": previous_number,
        "summary": summary,
        "by_country": dict(sorted(by_country.items())),
        **lists,
        "truncated": [key for key in CHANGE_KEYS if summary[key] > len(lists[key])],
    }


# ---------------------------------------------------------------------------------------------
# Writing


def _serialise(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=max(1, table.num_rows), **_PARQUET_OPTIONS)
    return sink.getvalue()


def _write_temp(directory: Path, data: pa.Buffer) -> Path:
    fd, name = tempfile.mkstemp(prefix=".tmp-release-", suffix=".parquet", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(path, 0o444)  # snapshots are immutable
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path




def _latest_release() -> Release | None:
    return Release.objects.order_by("-number").first()


def _commit(temp: Path, table: pa.Table, counts: dict, sha256: str) -> Release:
    """Take the next number, insert the row and link the file, all or nothing."""
    store = get_store()
    final = None
    try:
        with transaction.atomic():
            previous = _latest_release()
            number = previous.number + 1 if previous else 1
            previous_table = load_snapshot(previous, verify=True) if previous else None
            changelog = compute_changelog(
                previous_table, table, previous.number if previous else None,
                settings.RELEASE_MOVED_THRESHOLD_M,
            )
            release = Release.objects.create(
                number=number,
                camera_count=table.num_rows,
                snapshot=snapshot_name(number),
                sha256=sha256,
                counts=counts,
                changelog=changelog,
                history=True,
            )
            history.record_history(number, previous, previous_table, table)
            name = snapshot_store_name(release.snapshot)
            try:
                store.place(name, temp, replace=False)  # atomic, never over an existing file
            except FileExistsError:
                raise ReleaseError(
                    f"snapshot file {_where(store, name)} already exists but release {number} is not recorded: "
                    "probably left by an interrupted publish. Check it and remove it, then publish again."
                ) from None
            except BaseException:
                store.delete(name)  # placed, then failed (syncing the folder): it is ours, under our number
                raise
            final = name
    except BaseException:
        if final is not None:
            store.delete(final)
        raise
    return release


def publish_release(progress=False, *, allow_empty: bool = False) -> Release:
    """Freeze the active cameras into the next numbered release and return it.

    ``progress=True`` shows a tqdm bar on stderr with the stages read, write and changelog.
    The returned release carries ``timings`` (seconds per stage, not stored).
    """
    directory = get_store().spool_dir(snapshot_store_name(snapshot_name(1)))
    timings = {}
    started = time.perf_counter()
    with tqdm(total=3, desc="publish", unit="stage", disable=not progress, leave=True) as bar:
        bar.set_postfix_str("read")
        table = read_active_cameras()
        if table.num_rows == 0 and not allow_empty:
            raise EmptyReleaseError("no active cameras to publish (use allow_empty / --allow-empty to publish an empty release)")
        counts = compute_counts(table)
        timings["read"] = time.perf_counter() - started
        bar.update(1)

        bar.set_postfix_str("write")
        mark = time.perf_counter()
        data = _serialise(table)
        sha256 = hashlib.sha256(data).hexdigest()
        temp = _write_temp(directory, data)
        timings["write"] = time.perf_counter() - mark
        bar.update(1)

        bar.set_postfix_str("changelog")
        mark = time.perf_counter()
        try:
            for _attempt in range(PUBLISH_ATTEMPTS):
                try:
                    release = _commit(temp, table, counts, sha256)
                    break
                except IntegrityError:
                    continue  # another publisher took this number: retry with the next one
            else:
                raise ReleaseError(f"could not take a release number after {PUBLISH_ATTEMPTS} attempts")
        finally:
            temp.unlink(missing_ok=True)
        timings["changelog"] = time.perf_counter() - mark
        bar.update(1)
        bar.set_postfix_str(f"release {release.number}")
    timings["total"] = time.perf_counter() - started
    release.timings = timings
    transaction.on_commit(lambda: release_published.send_robust(sender=Release, release=release))
    return release


# ---------------------------------------------------------------------------------------------
# Loading


def _where(store, name: str) -> str:
    """A snapshot's place, for messages: its file on the local disk, its name in an object store."""
    return f"{settings.STORAGE_URL}/{name}" if store.remote else str(store.path(name))


def load_snapshot(release_or_path, *, verify: bool = False, sha256: str | None = None,
                  columns: list[str] | None = None) -> pa.Table:
    """A release's snapshot as a ``pyarrow.Table`` (columns ``SNAPSHOT_COLUMNS``, sorted by id).

    Accepts a ``Release``, a release number, or a path (a bare file name is looked up under
    RELEASES_DIR). ``verify=True`` checks the file's sha256 against the release's (for a path:
    ``sha256=``, or the release recorded with that file name). Raises ``SnapshotError`` when the
    file is missing, unreadable, fails the checksum or has other columns. ``columns`` reads
    only those columns (the schema is still checked whole).
    """
    expected = sha256
    if isinstance(release_or_path, int) and not isinstance(release_or_path, bool):
        try:
            release_or_path = Release.objects.get(number=release_or_path)
        except Release.DoesNotExist:
            raise SnapshotError(f"there is no release {release_or_path}") from None
    store = get_store()
    name = None  # the store's name of the file, when it is in the store
    if isinstance(release_or_path, Release):
        release = release_or_path
        name = snapshot_store_name(release.snapshot)
        label = f"release {release.number} snapshot {_where(store, name)}"
        expected = expected or release.sha256
        path = None
    else:
        path = Path(release_or_path)
        if path.parent == Path("."):
            name, path = snapshot_store_name(path.name), None
        label = f"snapshot {_where(store, name) if name else path}"
        if verify and not expected:
            release = Release.objects.filter(snapshot=Path(name or path).name).first()
            if release is None:
                raise SnapshotError(f"cannot verify {label}: no release is recorded for it; pass sha256=")
            expected = release.sha256

    try:
        if path is None:
            path = store.local_path(name)
        if verify:
            data = path.read_bytes()
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected and store.remote and name is not None:
                store.forget(name)  # a stale local copy: check the store's own bytes
                path = store.local_path(name)
                data = path.read_bytes()
                actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                raise SnapshotError(
                    f"{label} is corrupt: sha256 is {actual}, expected {expected}. "
                    "Restore the file from a backup; do not re-publish over it."
                )
            with pq.ParquetFile(pa.BufferReader(data)) as parquet:
                schema = parquet.schema_arrow
                table = parquet.read(columns=columns)
        else:
            with pq.ParquetFile(path) as parquet:  # one chunk per column: to_numpy() is zero-copy
                schema = parquet.schema_arrow
                table = parquet.read(columns=columns)
    except FileNotFoundError:
        where = f"STORAGE_URL={settings.STORAGE_URL}" if store.remote else f"RELEASES_DIR={settings.RELEASES_DIR}"
        raise SnapshotError(f"{label} is missing ({where})") from None
    except (pa.ArrowException, OSError) as exc:
        raise SnapshotError(f"{label} is corrupt or not a Parquet snapshot: {exc}") from exc

    names = schema.names
    if names != list(SNAPSHOT_COLUMNS) or any(
        schema.field(n).type != SNAPSHOT_SCHEMA.field(n).type for n in names
    ):
        raise SnapshotError(
            f"{label} does not have the snapshot columns: got {schema.to_string(show_schema_metadata=False)}"
        )
    return table


# ---------------------------------------------------------------------------------------------
# Rebuilding from the database


def rebuild_snapshot(release: Release | int) -> tuple[pa.Table, pa.Buffer]:
    """Release ``release`` read back from the database's history (``cameras.history``): its
    table and the snapshot file's bytes, which are checked against the recorded sha256.
    Raises ``SnapshotError`` when the history does not hold the release or the bytes differ
    (a different pyarrow version writes different bytes: its name is in the message)."""
    if not isinstance(release, Release):
        try:
            release = Release.objects.get(number=release)
        except Release.DoesNotExist:
            raise SnapshotError(f"there is no release {release}") from None
    if not release.history:
        first = history.first_rebuildable()
        since = f"release {first} is the oldest one it holds" if first else "it holds no release yet"
        raise SnapshotError(
            f"release {release.number} was published before the database kept release history ({since}); "
            "restore its snapshot file from a backup instead"
        )
    table = _read_table(history.rows_sql(), [release.number, release.number])
    data = _serialise(table)
    actual = hashlib.sha256(data).hexdigest()
    if table.num_rows != release.camera_count or actual != release.sha256:
        raise SnapshotError(
            f"release {release.number} rebuilt from the database has {table.num_rows} cameras and sha256 {actual}, "
            f"but was published with {release.camera_count} cameras and sha256 {release.sha256} "
            f"(this is pyarrow {pa.__version__}; the snapshot records the version that wrote it)"
        )
    return table, data


def restore_snapshot(release: Release, *, replace_corrupt: bool = True) -> str:
    """Write release ``release``'s snapshot file from the database when it is missing (or,
    with ``replace_corrupt``, fails its checksum). Returns what was done: 'ok' (the file was
    already right), 'restored' or 'replaced'."""
    store = get_store()
    name = snapshot_store_name(release.snapshot)
    try:
        load_snapshot(release, verify=True, columns=["id"])
        return "ok"
    except SnapshotError:
        exists = store.exists(name)
        if exists and not replace_corrupt:
            raise
    _table, data = rebuild_snapshot(release)
    temp = _write_temp(store.spool_dir(name), data)
    try:
        store.place(name, temp)  # the rebuilt bytes match the recorded checksum: safe to replace
    finally:
        temp.unlink(missing_ok=True)
    return "replaced" if exists else "restored"


# ---------------------------------------------------------------------------------------------
# Text


def _changes(n: int, singular: str, plural: str) -> str:
    return ngettext(singular, plural, n) % {"count": number(n)}


def _country_text(cc: str, c: dict) -> str:
    parts = []
    if c.get("added"):
        parts.append(f"+{number(c['added'])}")
    if c.get("removed"):
        parts.append(f"-{number(c['removed'])}")
    if c.get("moved"):
        parts.append(gettext("%(count)s moved") % {"count": number(c["moved"])})
    if c.get("speed_changed"):
        parts.append(_changes(c["speed_changed"], "%(count)s speed change", "%(count)s speed changes"))
    if c.get("type_changed"):
        parts.append(_changes(c["type_changed"], "%(count)s type change", "%(count)s type changes"))
    return f"{cc} " + " ".join(parts)


def changelog_text(release: Release, max_countries: int | None = 10) -> str:
    """One-line human summary in the active language (English for the CLI; the home page's
    language there), e.g. "Release 7: +120 added, -4 removed, 12 moved, 3 speed changes,
    1 type change since release 6; by country: FR +50 -1, DE +70 -3 12 moved".

    Countries are listed by number of changes (then code), at most ``max_countries`` of them.
    """
    log = release.changelog or {}
    s = {key: 0 for key in CHANGE_KEYS} | log.get("summary", {})
    head = gettext("Release %(number)s: +%(added)s added, -%(removed)s removed, %(moved)s moved, %(speed)s, "
                   "%(types)s") % {
        "number": release.number, "added": number(s["added"]), "removed": number(s["removed"]),
        "moved": number(s["moved"]),
        "speed": _changes(s["speed_changed"], "%(count)s speed change", "%(count)s speed changes"),
        "types": _changes(s["type_changed"], "%(count)s type change", "%(count)s type changes")}
    if log.get("previous") is None:
        head = gettext("%(head)s (first release)") % {"head": head}
    else:
        head = gettext("%(head)s since release %(previous)s") % {"head": head, "previous": log["previous"]}
    by_country = log.get("by_country", {})
    if not by_country:
        return gettext("%(head)s; no changes") % {"head": head} if not any(s.values()) else head
    ranked = sorted(by_country.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    shown = ranked if max_countries is None else ranked[:max_countries]
    text = gettext("%(head)s; by country: %(countries)s") % {
        "head": head, "countries": ", ".join(_country_text(cc, c) for cc, c in shown)}
    rest = len(ranked) - len(shown)
    if rest:
        text = ngettext("%(line)s, and %(count)s more country", "%(line)s, and %(count)s more countries", rest) % {
            "line": text, "count": number(rest)}
    return text
