"""Identity and merging never lose a camera: repeated ids, directions at one point, A/B
cameras of one source, merge reports with the real distance, repeated mobile report ids."""

import io
import math
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import call_command

from cameras.distance import haversine_m
from cameras.importing import import_file
from cameras.models import Camera, CameraLink, MobileReport

pytestmark = pytest.mark.django_db

HEADER = "ref,kind,type,lat,lon,speed,truck_speed,heading,direction,reported_at"

PARIS = (48.8566, 2.3522)
BERLIN = (52.5200, 13.4050)


def offset(point, north_m=0.0, east_m=0.0):
    lat, lon = point
    return lat + north_m / 111_195.0, lon + east_m / (111_195.0 * math.cos(math.radians(lat)))


def row(ref, point, type="speed", speed="", heading="", direction="", kind="", truck_speed="", reported_at=""):
    return f"{ref},{kind},{type},{point[0]:.7f},{point[1]:.7f},{speed},{truck_speed},{heading},{direction},{reported_at}"


def feed(tmp_path, name, *rows):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def metres(a, b):
    return float(haversine_m(a[0], a[1], b[0], b[1]))


# 1. A repeated id at another place or with another type is another camera.

def test_a_repeated_id_at_another_place_or_type_is_another_camera_and_is_reported(tmp_path):
    section_end = offset(PARIS, north_m=2000)
    path = feed(tmp_path, "pairs.csv",
                row("s1", PARIS, type="section-start", speed=110),        # line 2
                row("s1", section_end, type="section-end", speed=110),    # line 3: the pair's other end
                row("x7", PARIS, speed=50, heading=0, direction="one"),   # line 4
                row("x7", BERLIN, speed=80))                              # line 5: another list's x7
    report = import_file(path, source="gov")

    assert report.created == 4 and report.merged == []
    stored = sorted(Camera.objects.values_list("type", "speed", "country"))
    assert stored == [(1, 50, "FR"), (1, 80, "DE"), (4, 110, "FR"), (5, 110, "FR")]
    assert [(ref, line, first) for ref, line, first, _ in report.repeated_refs] == [("s1", 3, 2), ("x7", 5, 4)]
    assert report.repeated_refs[0][3] == pytest.approx(metres(PARIS, section_end), abs=0.1)
    assert report.repeated_refs[1][3] == pytest.approx(metres(PARIS, BERLIN), abs=0.1)
    summary = report.summary()
    assert "ids repeated for another camera (kept as separate cameras): 2 ids, 2 rows" in summary
    assert f"'x7' line 5 ({metres(PARIS, BERLIN) / 1000:.1f} km from line 4)" in summary
    assert report.as_dict()["repeated_refs"] == 2

    # The same file again finds the same keys: nothing created, changed or retired.
    ids = sorted(Camera.objects.values_list("id", flat=True))
    again = import_file(path, source="gov")
    assert (again.created, again.updated, again.unchanged, again.deactivated) == (0, 0, 4, 0)
    assert sorted(Camera.objects.values_list("id", flat=True)) == ids
    assert CameraLink.objects.filter(active=True).count() == 4


def test_a_true_repeat_of_an_id_is_one_camera_and_its_report_gives_the_real_distance(tmp_path):
    near = offset(PARIS, north_m=2)
    path = feed(tmp_path, "repeat.csv", row("r1", PARIS, speed=50), row("r1", near, speed=50))
    report = import_file(path, source="gov")

    assert Camera.objects.count() == 1 and report.repeated_refs == []
    line, what, first, distance, why = report.merged[0]
    assert (line, what, first) == (3, "repeat of line", 2)
    assert distance == pytest.approx(metres(PARIS, near), abs=0.1) and distance > 1.5
    assert why.startswith("the same id listed again: same type (Speed camera), 2.0 m apart")


def test_a_row_without_id_listed_twice_is_reported_as_a_repeat_of_its_position_not_of_an_id(tmp_path):
    path = feed(tmp_path, "noid.csv", row("", PARIS, speed=50), row("", PARIS, speed=50),
                row("", PARIS, type="red-light"))
    report = import_file(path, source="noid")

    # The third row is another type at that point: another camera.
    assert Camera.objects.count() == 2
    (line, what, first, distance, why), = report.merged
    assert (line, what, first, distance) == (3, "repeat of line", 2, 0.0)
    assert why.startswith("the same position and type listed again (no id): same type (Speed camera)")
    assert "id listed again" not in why


# 2. Incompatible directions are never merged, even at identical coordinates.

def test_opposite_directions_at_identical_coordinates_are_two_cameras_within_one_file(tmp_path):
    path = feed(tmp_path, "ways.csv",
                row("", PARIS, speed=50, heading=90, direction="one"),
                row("", PARIS, speed=50, heading=270, direction="one"),
                row("d1", BERLIN, speed=50, heading=0, direction="one"),
                row("d1", BERLIN, speed=50, heading=180, direction="one"))
    report = import_file(path, source="nolist")

    assert report.merged == []
    assert sorted(Camera.objects.values_list("country", "heading")) == [
        ("DE", 0.0), ("DE", 180.0), ("FR", 90.0), ("FR", 270.0)]
    assert [r[:3] for r in report.repeated_refs] == [("d1", 5, 4)]
    again = import_file(path, source="nolist")
    assert (again.created, again.unchanged, again.deactivated) == (0, 4, 0)


def test_opposite_directions_at_identical_coordinates_are_two_cameras_across_sources(tmp_path):
    import_file(feed(tmp_path, "gov.csv", row("g1", PARIS, speed=50, heading=90, direction="one")), source="gov")
    report = import_file(feed(tmp_path, "osm.csv", row("node/1", PARIS, speed=50, heading=270, direction="one"),
                              row("node/2", BERLIN, speed=50, heading=0, direction="one")), source="osm")
    assert report.merged == [] and report.created == 2
    assert sorted(Camera.objects.filter(country="FR").values_list("heading", flat=True)) == [90.0, 270.0]


# 3. Two ids of one source at one point are two cameras; neither speed is dropped.

def test_two_ids_of_one_source_at_one_point_are_two_cameras_with_both_speeds(tmp_path):
    path = feed(tmp_path, "ab.csv", row("101A", PARIS, speed=90), row("101B", PARIS, speed=70),
                row("102A", BERLIN, speed=50), row("102B", offset(BERLIN, east_m=12), speed=50))
    report = import_file(path, source="gov")
    assert report.merged == [] and report.created == 4
    assert sorted(Camera.objects.filter(country="FR").values_list("speed", flat=True)) == [70, 90]
    assert Camera.objects.filter(country="DE").count() == 2


def test_rows_without_ids_at_one_point_with_different_speeds_are_two_cameras(tmp_path):
    path = feed(tmp_path, "noid.csv", row("", PARIS, speed=90), row("", offset(PARIS, north_m=3), speed=70),
                row("", BERLIN, speed=50, truck_speed=40), row("", BERLIN, speed=50, truck_speed=30))
    report = import_file(path, source="noid")
    assert report.merged == []
    assert sorted(Camera.objects.values_list("speed", "truck_speed")) == [(50, 30), (50, 40), (70, None), (90, None)]


def test_a_new_id_beside_a_camera_of_the_same_source_is_a_new_camera(tmp_path):
    import_file(feed(tmp_path, "v1.csv", row("101A", PARIS, speed=90)), source="gov")
    report = import_file(feed(tmp_path, "v2.csv", row("101A", PARIS, speed=90), row("101B", PARIS, speed=70)),
                         source="gov")
    assert (report.created, report.unchanged, report.merged) == (1, 1, [])
    assert sorted(Camera.objects.values_list("speed", flat=True)) == [70, 90]


def test_two_cameras_of_a_file_never_fold_into_one_known_camera(tmp_path):
    import_file(feed(tmp_path, "gov.csv", row("g1", PARIS, speed=90)), source="gov")
    report = import_file(feed(tmp_path, "osm.csv", row("node/1", PARIS, speed=90),
                              row("node/2", offset(PARIS, east_m=4), speed=70)), source="osm")
    assert (report.created, len(report.merged)) == (1, 1)
    assert report.merged[0][:3] == (2, "same camera as existing camera", Camera.objects.get(links__ref="g1").id)
    assert sorted(Camera.objects.values_list("speed", flat=True)) == [70, 90]
    assert Camera.objects.get(links__ref="node/2").speed == 70


# 4. Merge reports: the real distance and why.

def test_a_merge_with_a_known_camera_reports_the_real_distance_and_why(tmp_path):
    import_file(feed(tmp_path, "gov.csv", row("g1", PARIS, speed=50, heading=90, direction="one")), source="gov")
    near = offset(PARIS, east_m=20)
    path = feed(tmp_path, "osm.csv", row("node/9", near, speed=50, heading=100, direction="one"))
    out = io.StringIO()
    call_command("import_cameras", str(path), "--source", "osm", stdout=out)

    camera = Camera.objects.get()
    assert sorted(camera.links.values_list("ref", flat=True)) == ["g1", "node/9"]
    expected = metres(PARIS, near)
    assert 19.5 < expected < 20.5
    why = f"same type (Speed camera), {expected:.1f} m apart (limit 30 m), headings 100° and 90° agree"
    assert f"line 2: same camera as existing camera {camera.id} ({round(expected, 1)} m: {why})" in out.getvalue()


def test_a_merge_within_a_file_reports_the_real_distance_and_why(tmp_path):
    near = offset(PARIS, north_m=11)
    report = import_file(feed(tmp_path, "noid.csv", row("", PARIS, speed=50), row("", near)), source="noid")
    assert Camera.objects.count() == 1
    line, what, first, distance, why = report.merged[0]
    assert (line, what, first) == (3, "same camera as line", 2)
    assert distance == pytest.approx(metres(PARIS, near), abs=0.1)
    assert why == f"same type (Speed camera), {distance:.1f} m apart (limit 30 m), one of them has no direction"


# 5. Mobile reports with a repeated id: stored as separate sightings, or said why not.

def test_mobile_reports_with_a_repeated_id_are_stored_as_separate_sightings_or_reported(tmp_path):
    t1 = datetime(2026, 3, 1, 14, 30, tzinfo=timezone.utc)
    t2 = t1 + timedelta(hours=3)
    elsewhere = offset(PARIS, north_m=2000)
    mobile = dict(kind="mobile", type="mobile-camera")
    path = feed(tmp_path, "reports.csv",
                row("m1", PARIS, reported_at=t1.isoformat(), **mobile),       # line 2
                row("m1", PARIS, reported_at=t2.isoformat(), **mobile),       # line 3: later
                row("m1", elsewhere, reported_at=t1.isoformat(), **mobile),   # line 4: elsewhere
                row("m1", PARIS, reported_at=t1.isoformat(), **mobile))       # line 5: the same again
    report = import_file(path, source="reports")

    assert report.mobile_reports == 3
    stored = sorted((r.reported_at, round(r.lat, 4)) for r in MobileReport.objects.all())
    assert stored == [(t1, round(PARIS[0], 4)), (t1, round(elsewhere[0], 4)), (t2, round(PARIS[0], 4))]
    assert report.mobile_repeats == [(5, "the same report (ref 'm1', same time and place) as line 2")]
    assert [r[:3] for r in report.repeated_refs] == [("m1", 3, 2), ("m1", 4, 2)]
    assert "mobile reports not stored again: 1 (e.g. line 5: the same report" in report.summary()

    again = import_file(path, source="reports")
    assert again.mobile_reports == 0 and MobileReport.objects.count() == 3
    assert [line for line, _ in again.mobile_repeats] == [2, 3, 4, 5]
