"""Every release can be rebuilt byte for byte from the database (cameras.history)."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from cameras.exporting import export_package
from cameras.models import Camera, CameraVersion, Release
from cameras.releases import (
    SnapshotError,
    load_snapshot,
    publish_release,
    rebuild_snapshot,
    restore_snapshot,
    snapshot_path,
)
from exporters.base import ExportOptions
from exporters.devices import get_device

from tests.cameras.test_releases import make, source  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def remove_file(release):
    path = snapshot_path(release)
    path.chmod(0o644)
    path.unlink()


def edit_and_publish(cams):
    """Three releases with every kind of change between them; returns them."""
    first = publish_release()
    a, b, c, d, e = cams[:5]
    Camera.objects.filter(pk=a.pk).update(lat=a.lat + 0.01)                  # moved
    Camera.objects.filter(pk=b.pk).update(speed=None)                        # speed now unknown
    Camera.objects.filter(pk=c.pk).update(status=Camera.Status.INACTIVE)     # removed
    Camera.objects.filter(pk=d.pk).update(heading=90.0, road="A 6", description="Tunnel ✓")
    second = publish_release()
    Camera.objects.filter(pk=c.pk).update(status=Camera.Status.ACTIVE)       # back again
    Camera.objects.filter(pk=d.pk).update(heading=None)                      # NaN again
    Camera.objects.filter(pk=e.pk).update(end_lat=48.9, end_lon=2.4, country="BE")
    third = publish_release()
    return [first, second, third]


def test_every_release_rebuilds_byte_identically_after_its_file_is_lost(make):
    cams = make(12, heading=None)
    published = edit_and_publish(cams)
    originals = {r.number: snapshot_path(r).read_bytes() for r in published}
    for release in published:
        remove_file(release)
    for release in published:
        table, data = rebuild_snapshot(release)
        assert bytes(data) == originals[release.number]
        assert table.num_rows == release.camera_count
    assert [restore_snapshot(r) for r in published] == ["restored"] * 3
    for release in published:
        assert snapshot_path(release).read_bytes() == originals[release.number]
        load_snapshot(release, verify=True)
    assert [restore_snapshot(r) for r in published] == ["ok"] * 3


def test_only_new_and_changed_cameras_add_rows(make):
    cams = make(10)
    publish_release()
    assert CameraVersion.objects.count() == 10
    Camera.objects.filter(pk=cams[0].pk).update(speed=70)
    publish_release()
    publish_release()  # unchanged: no row at all
    assert CameraVersion.objects.count() == 11
    old = CameraVersion.objects.get(camera_id=cams[0].pk, first_release=1)
    new = CameraVersion.objects.get(camera_id=cams[0].pk, first_release=2)
    assert (old.last_release, old.speed, new.last_release, new.speed) == (1, 50, None, 70)


def test_a_corrupt_snapshot_file_is_replaced_by_the_rebuilt_one(make):
    make(3)
    release = publish_release()
    original = snapshot_path(release).read_bytes()
    path = snapshot_path(release)
    path.chmod(0o644)
    path.write_bytes(original[:-10] + b"0123456789")
    with pytest.raises(SnapshotError, match="corrupt"):
        load_snapshot(release, verify=True)
    assert restore_snapshot(release) == "replaced"
    assert path.read_bytes() == original


def test_a_package_built_from_a_rebuilt_release_is_byte_identical(make):
    make(30, heading=45.0)
    release = publish_release()
    device = get_device("garmin-nuvi")
    before = export_package(device, ["FR"], ExportOptions(), release=release).data
    remove_file(release)
    restore_snapshot(release)
    after = export_package(device, ["FR"], ExportOptions(), release=release).data
    assert after == before


def test_a_release_from_before_the_history_says_so_and_the_next_one_is_recorded_whole(make):
    cams = make(4)
    old = publish_release()
    Release.objects.filter(pk=old.pk).update(history=False)  # as if published before the history
    CameraVersion.objects.all().delete()
    old.refresh_from_db()
    with pytest.raises(SnapshotError, match="before the database kept release history.*holds no release yet"):
        rebuild_snapshot(old)
    Camera.objects.filter(pk=cams[0].pk).update(speed=90)
    new = publish_release()
    assert CameraVersion.objects.filter(first_release=new.number).count() == 4
    with pytest.raises(SnapshotError, match=f"release {new.number} is the oldest one"):
        rebuild_snapshot(old)
    rebuild_snapshot(new)


def test_a_rebuild_that_does_not_match_the_recorded_checksum_is_an_error(make):
    make(3)
    release = publish_release()
    CameraVersion.objects.filter(camera_id=Camera.objects.first().pk).update(speed=120)
    with pytest.raises(SnapshotError, match="rebuilt from the database .* but was published with"):
        rebuild_snapshot(release)
    assert restore_snapshot(release) == "ok"  # the file itself is still right: left alone


def test_the_rebuild_release_command_checks_and_restores(make):
    cams = make(5)
    published = edit_and_publish(cams)
    remove_file(published[1])
    out = io.StringIO()
    call_command("rebuild_release", "--all", stdout=out)
    assert out.getvalue().count(": identical") == 3
    out = io.StringIO()
    call_command("rebuild_release", "2", "3", "--restore", stdout=out)
    assert "release 2: 4 cameras" in out.getvalue() and "missing file restored" in out.getvalue()
    assert "release 3: 5 cameras" in out.getvalue() and "file already correct" in out.getvalue()
    load_snapshot(published[1], verify=True)
    with pytest.raises(CommandError, match="no such release: 9"):
        call_command("rebuild_release", "9")
    with pytest.raises(CommandError, match="release numbers or --all"):
        call_command("rebuild_release")


edits = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(["lat", "speed", "heading", "road", "status", "type"]),
              st.integers(0, 3)),
    max_size=6,
)


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(edits, min_size=1, max_size=3))
def test_any_sequence_of_edits_gives_releases_that_all_rebuild_identically(make, rounds):
    Release.objects.all().delete()  # a fresh start for each example
    Camera.objects.all().delete()
    for path in settings.RELEASES_DIR.glob("*.parquet"):
        path.chmod(0o644)
        path.unlink()
    cams = make(8)
    values = {
        "lat": lambda v: 48.0 + v / 7,
        "speed": lambda v: None if v == 0 else 30 * v,
        "heading": lambda v: None if v == 0 else 90.0 * v - 0.5,
        "road": lambda v: ["", "A1", "N 7", "Rue de l'Église"][v],
        "status": lambda v: Camera.Status.INACTIVE if v == 1 else Camera.Status.ACTIVE,
        "type": lambda v: [1, 2, 4, 9][v],
    }
    published = [publish_release()]
    for round_ in rounds:
        for index, field, value in round_:
            Camera.objects.filter(pk=cams[index].pk).update(**{field: values[field](value)})
        if Camera.objects.filter(status=Camera.Status.ACTIVE).exists():
            published.append(publish_release())
    files = {r.number: snapshot_path(r).read_bytes() for r in published}
    for release in published:
        assert bytes(rebuild_snapshot(release)[1]) == files[release.number]
    for release in published:
        remove_file(release)
    for release in published:
        restore_snapshot(release)
        assert snapshot_path(release).read_bytes() == files[release.number]
