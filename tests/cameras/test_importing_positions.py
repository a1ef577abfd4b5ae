"""Import behaviour the first suite let slip: direction when matching cameras already in the
database, a swapped section's end point, and the configured offshore tolerance
(COUNTRY_TOLERANCE_KM) on every step of the import, swap detection included."""

import csv

import pytest

from cameras import geo
from cameras.importing import ImportFailed, import_file
from cameras.models import Camera, CameraLink
from exporters.schema import CameraType

from tests.cameras.test_importing import PARIS, cam, offset

pytestmark = pytest.mark.django_db

HEADER = ["ref", "kind", "type", "lat", "lon", "speed", "heading", "direction", "end_lat", "end_lon"]

# On the straight Landes coast (France, Atlantic): at this latitude every 0.1 degree of
# longitude west is about 8 km further out to sea, and France is the nearest country.
LANDES_LAT = 44.5
NEAR_OFFSHORE = (LANDES_LAT, -1.375)   # about 10 km off the beach
FAR_OFFSHORE = (LANDES_LAT, -1.757)    # about 40 km off the beach


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for row in rows:
            w.writerow([row.get(h, "") for h in HEADER])
    return path


def french_bulk(n=150):
    """Inland French cameras, 500 m apart: what makes France the file's home for swap
    detection (and one row elsewhere a rare stray, under 1 % of the file)."""
    return [cam(f"fr{i}", *offset(PARIS, north_m=i * 500)) for i in range(n)]


def offshore_km(point):
    code, km = geo.nearest_country(*point)
    assert code == "FR"
    return km


def test_the_chosen_offshore_points_lie_well_inside_their_margins():
    assert 5 < offshore_km(NEAR_OFFSHORE) < 15          # accepted with the default 25 km
    assert 35 < offshore_km(FAR_OFFSHORE) < 45          # rejected at 25 km, accepted at 50 km


# ---------------------------------------------------------------------------------------
# direction when matching cameras already in the database


def import_two_sources(tmp_path, second_heading):
    import_file(write(tmp_path / "gov.csv", [cam("gov-1", *PARIS, heading=90, direction="one")]), source="gov")
    north = offset(PARIS, north_m=10)
    return import_file(write(tmp_path / "osm.csv", [cam("node/1", *north, heading=second_heading, direction="one")]),
                       source="osm")


def test_a_camera_for_the_opposite_traffic_10_m_from_a_known_one_stays_a_camera_of_its_own(tmp_path):
    report = import_two_sources(tmp_path, second_heading=270)
    assert report.merged == [] and report.created == 1
    assert sorted(Camera.objects.values_list("heading", flat=True)) == [90.0, 270.0]


def test_a_camera_with_the_same_heading_10_m_from_a_known_one_is_merged_into_it(tmp_path):
    report = import_two_sources(tmp_path, second_heading=90)
    assert len(report.merged) == 1 and report.created == 0
    camera = Camera.objects.get()
    assert sorted(camera.links.values_list("source__name", "ref")) == [("gov", "gov-1"), ("osm", "node/1")]


# ---------------------------------------------------------------------------------------
# a swapped section


def test_a_section_written_lon_lat_gets_both_its_start_and_its_end_point_back(tmp_path):
    start, end = (45.7000, 4.8500), (45.6000, 4.8200)          # on the A7 south of Lyon
    section = cam("a7", start[1], start[0], type="section", end_lat=f"{end[1]:.6f}", end_lon=f"{end[0]:.6f}")
    report = import_file(write(tmp_path / "s.csv", french_bulk() + [section]), source="test")
    assert len(report.swapped) == 1
    fixed = Camera.objects.get(links__ref="a7")
    assert fixed.type == CameraType.SECTION and fixed.country == "FR"
    assert (fixed.lat, fixed.lon) == (pytest.approx(start[0]), pytest.approx(start[1]))
    assert (fixed.end_lat, fixed.end_lon) == (pytest.approx(end[0]), pytest.approx(end[1]))


# ---------------------------------------------------------------------------------------
# COUNTRY_TOLERANCE_KM


def test_a_camera_10_km_offshore_is_given_the_country_and_one_40_km_out_is_rejected_by_default(tmp_path, settings):
    settings.COUNTRY_TOLERANCE_KM = 25.0
    rows = french_bulk() + [cam("near", *NEAR_OFFSHORE), cam("far", *FAR_OFFSHORE)]
    report = import_file(write(tmp_path / "coast.csv", rows), source="test", skip_invalid=True)
    assert Camera.objects.get(links__ref="near").country == "FR"
    assert not CameraLink.objects.filter(ref="far").exists()
    [rejection] = report.rejections
    assert rejection.line == len(rows) + 1 and "not in or within 25 km of any country" in rejection.reason


def test_a_wider_configured_tolerance_accepts_the_camera_40_km_offshore(tmp_path, settings):
    settings.COUNTRY_TOLERANCE_KM = 50.0
    report = import_file(write(tmp_path / "coast.csv", french_bulk() + [cam("far", *FAR_OFFSHORE)]), source="test")
    assert report.rejections == []
    assert Camera.objects.get(links__ref="far").country == "FR"


def test_a_narrower_configured_tolerance_rejects_the_camera_10_km_offshore(tmp_path, settings):
    settings.COUNTRY_TOLERANCE_KM = 5.0
    with pytest.raises(ImportFailed) as failed:
        import_file(write(tmp_path / "coast.csv", french_bulk() + [cam("near", *NEAR_OFFSHORE)]), source="test")
    assert "not in or within 5 km of any country" in failed.value.report.rejections[0].reason
    assert Camera.objects.count() == 0


def test_swap_detection_uses_the_configured_tolerance_for_a_swapped_camera_40_km_offshore(tmp_path, settings):
    settings.COUNTRY_TOLERANCE_KM = 50.0
    swapped = cam("far-swapped", FAR_OFFSHORE[1], FAR_OFFSHORE[0])   # written lon, lat: read, it is far out at sea
    report = import_file(write(tmp_path / "coast.csv", french_bulk() + [swapped]), source="test")
    assert report.swapped == [152] and report.rejections == []
    fixed = Camera.objects.get(links__ref="far-swapped")
    assert (fixed.lat, fixed.lon, fixed.country) == (pytest.approx(FAR_OFFSHORE[0]), pytest.approx(FAR_OFFSHORE[1]),
                                                     "FR")


def test_swap_detection_does_not_reach_past_a_narrower_configured_tolerance(tmp_path, settings):
    settings.COUNTRY_TOLERANCE_KM = 5.0
    swapped = cam("near-swapped", NEAR_OFFSHORE[1], NEAR_OFFSHORE[0])
    report = import_file(write(tmp_path / "coast.csv", french_bulk() + [swapped]), source="test", skip_invalid=True)
    assert report.swapped == [] and [r.line for r in report.rejections] == [152]
    assert not CameraLink.objects.filter(ref="near-swapped").exists()
