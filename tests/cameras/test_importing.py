"""The import pipeline: validation, transactions, idempotence, dedup, deactivation."""

import csv
import math
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cameras.formats import FormatError
from cameras.importing import ImportFailed, import_file
from cameras.models import Camera, CameraLink, ImportRun, MobileReport
from exporters.schema import CameraType, DirectionMode, Kind

pytestmark = pytest.mark.django_db

HEADER = ["ref", "kind", "type", "lat", "lon", "speed", "heading", "direction", "road", "description", "reported_at"]

PARIS = (48.8566, 2.3522)
BERLIN = (52.5200, 13.4050)
MADRID = (40.4168, -3.7038)


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for row in rows:
            full = dict(zip(HEADER, [""] * len(HEADER)))
            full.update(row)
            w.writerow([full[h] for h in HEADER])
    return path


def cam(ref, lat, lon, **extra):
    row = {"ref": ref, "kind": "fixed", "type": "speed", "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "speed": "50"}
    row.update({k: str(v) for k, v in extra.items()})
    return row


def offset(point, north_m=0.0, east_m=0.0):
    lat, lon = point
    return lat + north_m / 111_195.0, lon + east_m / (111_195.0 * math.cos(math.radians(lat)))


def test_it_imports_cameras_with_their_fields_and_countries(tmp_path):
    path = write(tmp_path / "a.csv", [
        cam("p1", *PARIS, speed=50, heading=90, direction="one", road="A1", description="Paris centre"),
        cam("b1", *BERLIN, type="red-light", speed=""),
        cam("m1", *MADRID, speed=120, direction="both", heading=10),
    ])
    report = import_file(path, source="test")
    assert (report.created, report.updated, len(report.rejections)) == (3, 0, 0)
    paris = Camera.objects.get(links__ref="p1")
    assert (paris.country, paris.speed, paris.heading, paris.dir_mode, paris.road) == ("FR", 50, 90.0, DirectionMode.ONE, "A1")
    assert paris.type == CameraType.SPEED and paris.kind == Kind.FIXED and paris.status == "active"
    berlin = Camera.objects.get(links__ref="b1")
    assert (berlin.country, berlin.type, berlin.speed) == ("DE", CameraType.RED_LIGHT, None)
    assert Camera.objects.get(links__ref="m1").country == "ES"
    assert ImportRun.objects.get().created == 3


def test_it_writes_nothing_when_a_row_is_bad_and_lists_the_row_and_reason(tmp_path):
    path = write(tmp_path / "bad.csv", [cam("ok", *PARIS), cam("bad", 95.5, 2.0), cam("ok2", *BERLIN)])
    with pytest.raises(ImportFailed) as exc:
        import_file(path, source="test")
    assert Camera.objects.count() == 0 and CameraLink.objects.count() == 0
    rejections = exc.value.report.rejections
    assert len(rejections) == 1
    assert rejections[0].line == 3 and rejections[0].file == "bad.csv"
    assert "95.5" in rejections[0].reason
    assert "--skip-invalid" in str(exc.value)


def test_it_imports_the_good_rows_with_skip_invalid_and_reports_the_rest(tmp_path):
    path = write(tmp_path / "bad.csv", [cam("ok", *PARIS), cam("sea", 45.0, -30.0), cam("ok2", *BERLIN)])
    report = import_file(path, source="test", skip_invalid=True)
    assert report.created == 2
    assert [r.line for r in report.rejections] == [3]
    assert "not in or within" in report.rejections[0].reason
    assert set(Camera.objects.values_list("country", flat=True)) == {"FR", "DE"}


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path / "a.csv", [cam("p1", *PARIS), cam("b1", *BERLIN)])
    import_file(path, source="test")
    ids = sorted(Camera.objects.values_list("id", flat=True))
    report = import_file(path, source="test")
    assert (report.created, report.updated, report.unchanged, report.deactivated) == (0, 0, 2, 0)
    assert sorted(Camera.objects.values_list("id", flat=True)) == ids


def test_reimport_updates_in_place_and_deactivates_what_disappeared(tmp_path):
    import_file(write(tmp_path / "a.csv", [cam("p1", *PARIS), cam("b1", *BERLIN)]), source="test")
    berlin_id = Camera.objects.get(links__ref="b1").id
    report = import_file(write(tmp_path / "b.csv", [cam("p1", *PARIS, speed=30)]), source="test")
    assert (report.updated, report.deactivated) == (1, 1)
    assert Camera.objects.get(links__ref="p1").speed == 30
    berlin = Camera.objects.get(id=berlin_id)
    assert berlin.status == "inactive"  # kept, never deleted
    report = import_file(write(tmp_path / "c.csv", [cam("p1", *PARIS, speed=30), cam("b1", *BERLIN)]), source="test")
    assert report.reactivated == 1 and report.created == 0
    assert Camera.objects.get(id=berlin_id).status == "active"


def test_an_other_sources_import_does_not_deactivate_my_cameras(tmp_path):
    import_file(write(tmp_path / "a.csv", [cam("p1", *PARIS)]), source="one")
    import_file(write(tmp_path / "b.csv", [cam("b1", *BERLIN)]), source="two")
    assert Camera.objects.filter(status="active").count() == 2


def test_it_merges_the_same_camera_twice_in_one_file(tmp_path):
    # Rows without ids are merged by position; two ids of one source are two cameras
    # (tests/cameras/test_identity.py).
    near = offset(PARIS, north_m=12)
    path = write(tmp_path / "dup.csv", [cam("", *PARIS), cam("", *near)])
    report = import_file(path, source="osm")
    assert Camera.objects.count() == 1
    assert report.merged[0][0] == 3 and report.merged[0][2] == 2  # line 3 merged into line 2
    assert 11 < report.merged[0][3] < 13
    assert CameraLink.objects.count() == 2  # both position keys point at the camera


@pytest.mark.parametrize("second, expected", [
    (dict(north_m=45), 2),                                      # beyond the 30 m radius
    (dict(north_m=10, type="red-light"), 2),                    # another type
    (dict(north_m=10, heading=270, direction="one"), 2),        # opposite traffic
    (dict(north_m=10, heading=100, direction="one"), 1),        # 10 degrees apart
    (dict(north_m=10, heading=270, direction="both"), 1),       # both ways covers the opposite
    (dict(north_m=10, direction="all"), 1),                     # no direction: compatible
])
def test_dedup_respects_radius_type_and_direction(tmp_path, second, expected):
    extra = {k: v for k, v in second.items() if k != "north_m"}
    rows = [cam("", *PARIS, heading=90, direction="one"),
            cam("", *offset(PARIS, north_m=second["north_m"]), **{"heading": 90, "direction": "one", **extra})]
    import_file(write(tmp_path / "d.csv", rows), source="osm")
    assert Camera.objects.count() == expected


def test_it_merges_a_camera_already_known_from_another_source(tmp_path):
    import_file(write(tmp_path / "a.csv", [cam("gov-1", *PARIS, road="")]), source="gov")
    report = import_file(write(tmp_path / "b.csv", [cam("node/9", *offset(PARIS, east_m=20), road="Rue de Rivoli")]),
                         source="osm")
    assert report.created == 0 and len(report.merged) == 1
    camera = Camera.objects.get()
    assert sorted(camera.links.values_list("source__name", "ref")) == [("gov", "gov-1"), ("osm", "node/9")]
    assert camera.lat == pytest.approx(PARIS[0])  # the first source's position is kept
    assert camera.road == "Rue de Rivoli"        # what it lacked is filled in
    # The first source dropping it does not deactivate it while the other still has it.
    import_file(write(tmp_path / "c.csv", [cam("gov-2", *BERLIN)]), source="gov")
    assert Camera.objects.get(id=camera.id).status == "active"


def test_dry_run_reports_but_writes_nothing(tmp_path):
    report = import_file(write(tmp_path / "a.csv", [cam("p1", *PARIS)]), source="test", dry_run=True)
    assert report.created == 1
    assert Camera.objects.count() == 0 and ImportRun.objects.count() == 0


def test_rows_without_ids_are_keyed_by_position(tmp_path):
    path = write(tmp_path / "a.csv", [cam("", *PARIS), cam("", *BERLIN)])
    import_file(path, source="pos")
    report = import_file(path, source="pos")
    assert (report.created, report.unchanged) == (0, 2)
    assert Camera.objects.count() == 2


def test_swapped_latitude_and_longitude_are_detected_and_fixed(tmp_path):
    rows = [cam(f"fr{i}", *offset(PARIS, north_m=i * 500)) for i in range(150)]
    rows += [cam(f"de{i}", *offset(BERLIN, east_m=i * 500)) for i in range(100)]
    lyon = (45.7640, 4.8357)
    rows.append(cam("swapped", lyon[1], lyon[0]))  # written lon, lat
    report = import_file(write(tmp_path / "s.csv", rows), source="test")
    assert report.swapped == [252]
    fixed = Camera.objects.get(links__ref="swapped")
    assert (fixed.lat, fixed.lon, fixed.country) == (pytest.approx(lyon[0]), pytest.approx(lyon[1]), "FR")


def test_mobile_reports_become_zones_only_above_the_threshold(tmp_path, settings):
    settings.MOBILE_ZONE_MIN_REPORTS = 3
    now = timezone.now()
    busy = [cam(f"r{i}", *offset(PARIS, north_m=i * 20), kind="mobile", type="mobile-camera", speed="",
                reported_at=(now - timedelta(days=i)).isoformat()) for i in range(4)]
    quiet = [cam("q1", *BERLIN, kind="mobile", type="mobile-camera", speed="", reported_at=now.isoformat())]
    old = [cam(f"o{i}", *MADRID, kind="mobile", type="mobile-camera", speed="",
               reported_at=(now - timedelta(days=400)).isoformat()) for i in range(5)]
    report = import_file(write(tmp_path / "m.csv", busy + quiet + old), source="reports")
    assert report.mobile_reports == 10 and MobileReport.objects.count() == 10
    zones = Camera.objects.filter(type=CameraType.MOBILE_ZONE, status="active")
    assert zones.count() == 1
    zone = zones.get()
    assert (zone.kind, zone.country, zone.reports) == (Kind.MOBILE, "FR", 4)
    # Re-running keeps the zone's id.
    from cameras.mobile import aggregate_mobile_zones

    result = aggregate_mobile_zones()
    assert (result.created, result.updated) == (0, 1)
    assert Camera.objects.get(type=CameraType.MOBILE_ZONE).id == zone.id


def test_the_command_reports_an_empty_file_clearly(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import_cameras", str(empty), "--source", "x")


def test_the_command_reports_an_unrecognised_format_clearly(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    with pytest.raises(CommandError, match="could not recognise the format"):
        call_command("import_cameras", str(junk), "--source", "x")


def test_the_command_prints_a_summary_and_fails_listing_bad_rows(tmp_path, capsys):
    good = write(tmp_path / "good.csv", [cam("p1", *PARIS)])
    call_command("import_cameras", str(good), "--source", "x")
    out = capsys.readouterr().out
    assert "cameras created: 1" in out
    bad = write(tmp_path / "bad.csv", [cam("p2", *BERLIN), cam("p3", 10.0, 500.0)])
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_cameras", str(bad), "--source", "x")
    err = capsys.readouterr().err
    assert "bad.csv:3:" in err
    assert Camera.objects.count() == 1


def test_an_unknown_format_name_is_refused(tmp_path):
    with pytest.raises(FormatError, match="valid formats"):
        import_file(write(tmp_path / "a.csv", [cam("p1", *PARIS)]), source="x", fmt="nope")
