import hashlib
import io
import json
import math
import threading

import numpy as np
import pyarrow as pa
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections

from cameras import releases, storage
from cameras.models import Camera, Release, Source
from cameras.releases import (
    EmptyReleaseError,
    ReleaseError,
    SnapshotError,
    changelog_text,
    compute_changelog,
    load_snapshot,
    publish_release,
    snapshot_path,
)
from exporters.schema import SNAPSHOT_COLUMNS, CameraType, DirectionMode, Kind

METRES_PER_DEGREE_LAT = 6_371_008.8 * math.pi / 180


def north(lat, metres):
    return lat + metres / METRES_PER_DEGREE_LAT


@pytest.fixture
def source(db):
    return Source.objects.create(name="test-feed")


@pytest.fixture
def make(source):
    def make(n=None, **fields):
        defaults = dict(lat=48.85, lon=2.35, country="FR", source=source, speed=50)
        cams = Camera.objects.bulk_create([Camera(**(defaults | fields)) for _ in range(n or 1)])
        return cams if n else cams[0]

    return make


def files_in_releases_dir():
    directory = settings.RELEASES_DIR
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- snapshot contents -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_snapshot_has_exactly_the_contract_columns_and_dtypes(make):
    make(3)
    table = load_snapshot(publish_release())
    assert table.column_names == list(SNAPSHOT_COLUMNS)
    for name, dtype in SNAPSHOT_COLUMNS.items():
        if dtype == "str":
            assert table.schema.field(name).type == pa.string(), name
        else:
            assert table.column(name).to_numpy().dtype == np.dtype(dtype), name
        assert table.column(name).null_count == 0, name


@pytest.mark.django_db
def test_the_snapshot_holds_the_camera_values_with_nulls_mapped_to_0_and_nan(make):
    full = make(
        kind=Kind.MOBILE, type=CameraType.SECTION, lat=50.1, lon=8.6, speed=80, truck_speed=60,
        heading=271.5, dir_mode=DirectionMode.ONE, country="DE", road="A5", description="Frankfurt",
        reports=4, end_lat=50.2, end_lon=8.7,
    )
    bare = make(speed=None, truck_speed=None, heading=None, end_lat=None, end_lon=None)
    rows = load_snapshot(publish_release()).to_pylist()
    assert [r["id"] for r in rows] == sorted([full.pk, bare.pk])
    by_id = {r["id"]: r for r in rows}
    assert by_id[full.pk] == {
        "id": full.pk, "kind": 1, "type": 11, "lat": 50.1, "lon": 8.6, "speed": 80, "truck_speed": 60,
        "heading": 271.5, "dir_mode": 1, "country": "DE", "road": "A5", "description": "Frankfurt",
        "reports": 4, "end_lat": 50.2, "end_lon": 8.7,
    }
    b = by_id[bare.pk]
    assert (b["speed"], b["truck_speed"], b["reports"]) == (0, 0, 0)
    assert math.isnan(b["heading"]) and math.isnan(b["end_lat"]) and math.isnan(b["end_lon"])


@pytest.mark.django_db
def test_cameras_read_in_several_chunks_make_one_table_sorted_by_id(make, monkeypatch):
    monkeypatch.setattr(releases, "READ_CHUNK_ROWS", 2)
    cams = make(5, speed=None) + make(2, country="DE")
    table = releases.read_active_cameras()
    assert table.column("id").to_pylist() == sorted(c.pk for c in cams)
    assert table.column("id").num_chunks == 1
    assert table.column("speed").to_pylist() == [0] * 5 + [50] * 2
    assert load_snapshot(publish_release()).column("country").to_pylist() == ["FR"] * 5 + ["DE"] * 2


@pytest.mark.django_db
def test_inactive_cameras_are_left_out_of_the_release(make):
    active = make(2)
    make(status=Camera.Status.INACTIVE)
    release = publish_release()
    assert release.camera_count == 2
    assert load_snapshot(release).column("id").to_pylist() == sorted(c.pk for c in active)


@pytest.mark.django_db
def test_release_counts_are_by_country_type_slug_and_kind(make):
    make(2, country="FR")
    make(country="DE", type=CameraType.RED_LIGHT)
    make(country="DE", type=CameraType.MOBILE_ZONE, kind=Kind.MOBILE)
    release = publish_release()
    assert release.counts == {
        "country": {"DE": 2, "FR": 2},
        "type": {"speed": 2, "red-light": 1, "mobile-zone": 1},
        "kind": {"fixed": 3, "mobile": 1},
    }


# --- numbering, files, immutability ------------------------------------------------------------


@pytest.mark.django_db
def test_release_numbers_start_at_one_and_increase_by_one(make):
    make()
    numbers = [publish_release().number for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert files_in_releases_dir() == ["release-000001.parquet", "release-000002.parquet", "release-000003.parquet"]


@pytest.mark.django_db
def test_the_release_records_the_sha256_of_its_snapshot_file(make):
    make(5)
    release = publish_release()
    assert release.snapshot == "release-000001.parquet"
    assert hashlib.sha256(snapshot_path(release).read_bytes()).hexdigest() == release.sha256
    assert Release.objects.get(number=1).sha256 == release.sha256


@pytest.mark.django_db
def test_the_same_cameras_give_a_byte_identical_snapshot(make):
    make(10)
    make(3, country="DE", speed=None, heading=90.0)
    first, second = publish_release(), publish_release()
    assert first.sha256 == second.sha256
    assert snapshot_path(first).read_bytes() == snapshot_path(second).read_bytes()
    assert second.changelog["summary"] == dict.fromkeys(releases.CHANGE_KEYS, 0)


@pytest.mark.django_db
def test_snapshot_files_are_read_only_and_no_temporary_file_remains(make):
    make()
    release = publish_release()
    assert files_in_releases_dir() == [release.snapshot]
    assert snapshot_path(release).stat().st_mode & 0o222 == 0


# --- changelog -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_second_release_changelog_lists_exactly_what_changed(make):
    keep = make(country="FR")
    gone = make(country="FR")
    far = make(country="DE", lat=52.52, lon=13.40)
    near = make(country="DE", lat=52.50, lon=13.30)
    faster = make(country="FR", speed=50)
    known = make(country="FR", speed=None)
    retyped = make(country="IT", lat=45.46, lon=9.19, type=CameraType.SPEED)
    make(country="FR", status=Camera.Status.INACTIVE)
    assert publish_release().changelog["previous"] is None

    new = make(country="ES", lat=40.41, lon=-3.70)
    make(country="ES", status=Camera.Status.INACTIVE)  # added, but inactive: not in the release
    Camera.objects.filter(pk=gone.pk).update(status=Camera.Status.INACTIVE)
    Camera.objects.filter(pk=far.pk).update(lat=north(far.lat, 60))
    Camera.objects.filter(pk=near.pk).update(lat=north(near.lat, 20))
    Camera.objects.filter(pk=faster.pk).update(speed=70)
    Camera.objects.filter(pk=known.pk).update(speed=30)
    Camera.objects.filter(pk=retyped.pk).update(type=CameraType.RED_LIGHT)
    Camera.objects.filter(pk=keep.pk).update(road="N7", description="renamed: not a tracked change")

    release = publish_release()
    zero = dict.fromkeys(releases.CHANGE_KEYS, 0)
    assert release.changelog == {
        "previous": 1,
        "summary": {"added": 1, "removed": 1, "moved": 1, "speed_changed": 2, "type_changed": 1},
        "by_country": {
            "DE": zero | {"moved": 1},
            "ES": zero | {"added": 1},
            "FR": zero | {"removed": 1, "speed_changed": 2},
            "IT": zero | {"type_changed": 1},
        },
        "added": [new.pk],
        "removed": [gone.pk],
        "moved": [[far.pk, 60.0]],
        "speed_changed": [[faster.pk, 50, 70], [known.pk, None, 30]],
        "type_changed": [[retyped.pk, "speed", "red-light"]],
        "truncated": [],
    }
    # The stored row says the same as the returned one (JSON round trip).
    assert Release.objects.get(number=2).changelog == release.changelog


@pytest.mark.django_db
def test_the_first_release_counts_every_camera_as_added(make):
    cams = make(3)
    log = publish_release().changelog
    assert log["previous"] is None
    assert log["summary"] == {"added": 3, "removed": 0, "moved": 0, "speed_changed": 0, "type_changed": 0}
    assert log["added"] == sorted(c.pk for c in cams)


@pytest.mark.django_db
def test_the_moved_threshold_comes_from_settings(make, settings):
    cam = make()
    publish_release()
    Camera.objects.filter(pk=cam.pk).update(lat=north(cam.lat, 20))
    settings.RELEASE_MOVED_THRESHOLD_M = 10.0
    assert publish_release().changelog["moved"] == [[cam.pk, 20.0]]


def test_changelog_id_lists_are_capped_but_the_counts_are_complete():
    empty = releases.SNAPSHOT_SCHEMA.empty_table()
    n = 5
    current = pa.table(
        {
            name: (
                pa.array(["FR"] * n) if dtype == "str" else pa.array(np.arange(1, n + 1).astype(dtype))
            )
            for name, dtype in SNAPSHOT_COLUMNS.items()
        },
        schema=releases.SNAPSHOT_SCHEMA,
    )
    log = compute_changelog(empty, current, 3, 50.0, cap=2)
    assert log["summary"]["added"] == 5
    assert log["by_country"]["FR"]["added"] == 5
    assert log["added"] == [1, 2]
    assert log["truncated"] == ["added"]


@pytest.mark.django_db
def test_changelog_text_summarises_the_changes_overall_and_by_country(make):
    a, b, c = make(country="FR"), make(country="DE"), make(country="DE")
    publish_release()
    make(2, country="FR")
    make(country="DE")
    Camera.objects.filter(pk=b.pk).update(status=Camera.Status.INACTIVE)
    Camera.objects.filter(pk=c.pk).update(lat=north(c.lat, 100), speed=90)
    Camera.objects.filter(pk=a.pk).update(type=CameraType.TUNNEL)
    release = publish_release()
    assert changelog_text(release) == (
        "Release 2: +3 added, -1 removed, 1 moved, 1 speed change, 1 type change since release 1; "
        "by country: DE +1 -1 1 moved 1 speed change, FR +2 1 type change"
    )
    assert changelog_text(release, max_countries=1).endswith("DE +1 -1 1 moved 1 speed change, and 1 more country")


@pytest.mark.django_db
def test_changelog_text_of_an_unchanged_release_says_no_changes(make):
    make()
    publish_release()
    assert changelog_text(publish_release()) == (
        "Release 2: +0 added, -0 removed, 0 moved, 0 speed changes, 0 type changes since release 1; no changes"
    )


# --- empty releases ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_with_no_active_cameras_is_refused_and_leaves_nothing_behind(make):
    make(status=Camera.Status.INACTIVE)
    with pytest.raises(EmptyReleaseError, match="no active cameras"):
        publish_release()
    assert not Release.objects.exists()
    assert files_in_releases_dir() == []


@pytest.mark.django_db
def test_an_empty_release_can_be_published_on_purpose_and_removes_everything(make):
    cam = make()
    publish_release()
    Camera.objects.update(status=Camera.Status.INACTIVE)
    release = publish_release(allow_empty=True)
    assert release.camera_count == 0
    assert release.counts == {"country": {}, "type": {}, "kind": {"fixed": 0, "mobile": 0}}
    assert release.changelog["removed"] == [cam.pk]
    table = load_snapshot(release, verify=True)
    assert table.num_rows == 0 and table.column_names == list(SNAPSHOT_COLUMNS)


# --- load_snapshot ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_snapshot_accepts_a_release_a_number_or_a_file_name(make):
    make(2)
    release = publish_release()
    expected = load_snapshot(release).column("id").to_pylist()
    assert len(expected) == 2
    assert load_snapshot(1).column("id").to_pylist() == expected
    assert load_snapshot(release.snapshot, verify=True).column("id").to_pylist() == expected
    assert load_snapshot(snapshot_path(release), verify=True).column("id").to_pylist() == expected


@pytest.mark.django_db
def test_load_snapshot_verify_detects_a_corrupted_file(make):
    make(20)
    release = publish_release()
    path = snapshot_path(release)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match=r"release 1 snapshot .* is corrupt: sha256 is [0-9a-f]{64}, expected " + release.sha256):
        load_snapshot(release, verify=True)


@pytest.mark.django_db
def test_load_snapshot_reports_a_truncated_file_as_corrupt_even_without_verify(make):
    make(20)
    release = publish_release()
    path = snapshot_path(release)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(SnapshotError, match="is corrupt or not a Parquet snapshot"):
        load_snapshot(release)


@pytest.mark.django_db
def test_load_snapshot_of_a_missing_file_says_it_is_missing(make):
    make()
    release = publish_release()
    snapshot_path(release).unlink()
    with pytest.raises(SnapshotError, match=r"release 1 snapshot .*release-000001\.parquet is missing"):
        load_snapshot(release)


@pytest.mark.django_db
def test_a_release_cannot_be_published_when_the_previous_snapshot_is_missing(make):
    make()
    first = publish_release()
    snapshot_path(first).unlink()
    with pytest.raises(SnapshotError, match="is missing"):
        publish_release()
    assert Release.objects.count() == 1
    assert files_in_releases_dir() == []


# --- failures and concurrency -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_insert_leaves_no_file_and_no_row(make, monkeypatch):
    make()

    def fail(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Release.objects, "create", fail)
    with pytest.raises(DatabaseError):
        publish_release()
    assert files_in_releases_dir() == []


@pytest.mark.django_db
def test_a_failure_after_the_file_is_linked_removes_the_file_and_the_row(make, monkeypatch):
    make()

    def fail(directory):
        assert files_in_releases_dir().count("release-000001.parquet") == 1
        raise DatabaseError("connection lost")

    monkeypatch.setattr(storage, "_fsync_dir", fail)  # the store syncs the folder once the file is placed
    with pytest.raises(DatabaseError):
        publish_release()
    assert not Release.objects.exists()
    assert files_in_releases_dir() == []


@pytest.mark.django_db
def test_an_existing_file_with_the_next_name_is_never_overwritten(make):
    make()
    settings.RELEASES_DIR.mkdir(parents=True)
    orphan = settings.RELEASES_DIR / "release-000001.parquet"
    orphan.write_bytes(b"left by a crash")
    with pytest.raises(ReleaseError, match="release-000001.parquet already exists but release 1 is not recorded"):
        publish_release()
    assert orphan.read_bytes() == b"left by a crash"
    assert not Release.objects.exists()
    assert files_in_releases_dir() == ["release-000001.parquet"]


@pytest.mark.django_db
def test_on_a_filesystem_without_hard_links_the_file_is_still_placed_without_overwriting(make, monkeypatch):
    make(2)

    def no_links(src, dst):
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(releases.os, "link", no_links)
    release = publish_release()
    load_snapshot(release, verify=True)
    assert files_in_releases_dir() == ["release-000001.parquet"]
    Release.objects.all().delete()  # the file is now an orphan: the next publish must not overwrite it
    with pytest.raises(ReleaseError, match="already exists"):
        publish_release()
    load_snapshot(release, verify=True)


@pytest.mark.django_db
def test_a_publisher_that_loses_the_race_for_a_number_retries_with_the_next(make, monkeypatch):
    make(3)
    winner = publish_release()
    real = releases._latest_release
    looked_up = []

    def stale_then_real():
        # The first look-up ran before the winner committed: it saw no release yet.
        looked_up.append(len(looked_up))
        return None if len(looked_up) == 1 else real()

    monkeypatch.setattr(releases, "_latest_release", stale_then_real)
    release = publish_release()
    assert looked_up == [0, 1]
    assert release.number == 2
    assert release.changelog["previous"] == winner.number
    assert list(Release.objects.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert files_in_releases_dir() == ["release-000001.parquet", "release-000002.parquet"]
    assert snapshot_path(winner).read_bytes() == snapshot_path(release).read_bytes()


@pytest.mark.django_db(transaction=True)
def test_concurrent_publishers_get_distinct_consecutive_numbers(source, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("the SQLite test database is in memory with a shared cache: no real concurrent writers")
    Camera.objects.bulk_create([Camera(lat=48.0 + i / 100, lon=2.0, country="FR", source=source) for i in range(50)])
    workers = 3
    barrier = threading.Barrier(workers, timeout=20)
    real = releases.compute_changelog
    local = threading.local()

    def synchronised(*args, **kwargs):
        # All publishers look up the latest release before any of them inserts: a real race.
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(releases, "compute_changelog", synchronised)
    real_latest = releases._latest_release
    lookups = []

    def counted_latest():
        lookups.append(1)
        return real_latest()

    monkeypatch.setattr(releases, "_latest_release", counted_latest)
    results, errors = [], []

    def run():
        try:
            results.append(publish_release())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r.number for r in results) == [1, 2, 3]
    assert len(lookups) >= 5  # both losers of the first round retried
    stored = list(Release.objects.order_by("number"))
    assert [r.changelog["previous"] for r in stored] == [None, 1, 2]
    assert [r.changelog["summary"]["added"] for r in stored] == [50, 0, 0]
    assert files_in_releases_dir() == [r.snapshot for r in stored]
    for r in stored:
        load_snapshot(r, verify=True)


# --- commands ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_publish_release_command_prints_the_summary(make):
    make(2, country="FR")
    make(country="DE")
    out = io.StringIO()
    call_command("publish_release", "--no-progress", stdout=out)
    text = out.getvalue()
    assert "Release 1 published: 3 cameras in 2 countries" in text
    assert "top countries: FR 2, DE 1" in text
    assert "fixed 3, mobile 0" in text
    assert "Release 1: +3 added, -0 removed" in text


@pytest.mark.django_db
def test_the_publish_release_command_prints_json_when_asked(make):
    make(2, country="FR")
    publish_release()
    make(country="DE")
    out = io.StringIO()
    call_command("publish_release", "--json", "--no-progress", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["number"] == 2
    assert summary["camera_count"] == 3
    assert summary["counts"]["country"] == {"DE": 1, "FR": 2}
    assert summary["changelog"]["previous"] == 1
    assert summary["changelog"]["summary"]["added"] == 1
    assert summary["sha256"] == Release.objects.get(number=2).sha256


@pytest.mark.django_db
def test_the_publish_release_command_refuses_an_empty_release_with_a_clear_error(source):
    with pytest.raises(CommandError, match="no active cameras"):
        call_command("publish_release", "--no-progress", stdout=io.StringIO())
    out = io.StringIO()
    call_command("publish_release", "--no-progress", "--allow-empty", stdout=out)
    assert "Release 1 published: 0 cameras" in out.getvalue()


@pytest.mark.django_db
def test_the_releases_command_lists_releases_newest_first_as_a_table(make):
    cam = make(2)[0]
    publish_release()
    Camera.objects.filter(pk=cam.pk).update(speed=30)
    make(country="DE")
    publish_release()
    out = io.StringIO()
    call_command("releases", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["Release", "Date", "Cameras", "Changes"]
    assert lines[2].split()[0] == "2" and lines[2].endswith("+1 -0 1 speed")
    assert lines[3].split()[0] == "1" and lines[3].endswith("first (+2)")
    assert " 3  " in lines[2] and " 2  " in lines[3]


@pytest.mark.django_db
def test_the_releases_command_says_when_there_are_none():
    out = io.StringIO()
    call_command("releases", stdout=out)
    assert "No releases yet" in out.getvalue()
