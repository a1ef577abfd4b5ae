"""Every real third-party feed in SHARED_DATA_DIR imports, with the expected counts."""


import pytest

from cameras.importing import import_file
from cameras.models import Camera, CameraLink
from exporters.schema import CameraType, Kind

pytestmark = [pytest.mark.django_db, pytest.mark.realdata]


def test_the_openstreetmap_feed_imports_every_node_and_reimports_idempotently(shared):
    path = shared("osm_speed_cameras_feed_2026-03.csv")
    report = import_file(path, source="osm")
    assert report.format == "osm-feed-csv"
    assert report.rows == 37_251 and not report.rejections
    # Every node has its own id, and within one source two ids are two cameras (pairs a few
    # metres apart are mostly one camera per carriageway): nothing is merged. Before ids were
    # kept apart, 2,656 nodes within 30 m of another were merged away.
    assert report.merged == [] and report.created == 37_251
    assert Camera.objects.count() == report.created
    assert CameraLink.objects.count() == 37_251  # every node id stays linked to its camera
    countries = set(Camera.objects.values_list("country", flat=True))
    assert {"FR", "DE", "IT", "NO", "GB", "ES", "SE", "NL", "AT", "PL", "BE", "CH", "US", "AU"} <= countries
    assert Camera.objects.filter(kind=Kind.MOBILE).count() == 8

    again = import_file(path, source="osm")
    assert (again.created, again.updated, again.deactivated) == (0, 0, 0)
    assert again.unchanged == report.created


def test_the_french_government_list_imports_with_types_speeds_and_overseas_points(shared):
    report = import_file(shared("fr_radars_automatiques_2023-04-26.csv"), source="fr-gov")
    assert report.format == "fr-radars"
    assert report.rows == 3_264 and not report.rejections
    # One camera per carriageway ("Lorient vers Quimper" / "Quimper vers Lorient", 14 m
    # apart) has two ids: two cameras. Before ids were kept apart, 59 of them were merged away.
    assert report.merged == [] and report.created == 3_264
    assert Camera.objects.filter(type=CameraType.RED_LIGHT).count() > 400
    assert Camera.objects.filter(type=CameraType.LEVEL_CROSSING).count() > 50
    # 80 "Radar Vitesse Moyenne" are average-speed sections; the 258 "Itinéraire" rows are
    # route enforcement (a radar car along the listed roads), a type of their own
    assert Camera.objects.filter(type=CameraType.SECTION).count() == 80
    assert Camera.objects.filter(type=CameraType.ROUTE_ENFORCEMENT).count() == 258
    discriminant = Camera.objects.get(links__ref="23107")  # Radar discriminant, RN88, 90 / 70 km/h
    assert (discriminant.speed, discriminant.truck_speed, discriminant.country) == (90, 70, "FR")
    # Overseas departments (Réunion at -21 degrees) are French, not swapped.
    assert report.swapped == []
    assert Camera.objects.filter(lat__lt=-20, country="FR").exists()


def lufop_zone_lines(path):
    """Line numbers of the French zone vertices (`max =`, `max !`), read independently."""
    lines = set()
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if ',"max =",' in line or ',"max !",' in line:
                lines.add(number)
    return lines


def test_the_lufop_garmin_csv_has_its_swapped_rows_fixed_and_exact_repeats_merged(shared):
    path = shared("eu_lufop_gatso_all_2021-08-06_garmin.csv")
    report = import_file(path, source="lufop")
    assert report.format == "garmin-csv"
    assert report.rows == 40_667 and not report.rejections
    assert len(report.swapped) == 13_927
    assert set(report.swapped) == lufop_zone_lines(path)
    repeats = [m for m in report.merged if m[1] == "repeat of line"]
    assert len(repeats) >= 1_914
    # After the fix the zone vertices lie in France, not in East Africa.
    assert not Camera.objects.filter(country__in=["SO", "ET", "KE", "YE"]).exists()
    assert Camera.objects.filter(country="FR").count() > 15_000
    speeds = set(Camera.objects.filter(type=CameraType.SPEED).values_list("speed", flat=True))
    assert {30, 50, 70, 90, 110, 130} <= speeds
    again = import_file(path, source="lufop")
    assert (again.created, again.deactivated) == (0, 0)


def test_the_lufop_ov2_imports_the_same_cameras_as_its_csv(shared):
    report = import_file(shared("eu_lufop_gatso_all_2021-08-06_tomtom.ov2"), source="lufop-ov2")
    assert report.format == "ov2"
    assert report.rows == 40_667 and not report.rejections
    assert len(report.swapped) == 13_927
    csv_report = import_file(shared("eu_lufop_gatso_all_2021-08-06_garmin.csv"), source="lufop-csv")
    # The same physical cameras: the CSV, imported second, creates (almost) nothing new.
    assert csv_report.created < 0.01 * report.created


def test_the_lufop_gpx_imports_130_kmh_cameras(shared):
    report = import_file(shared("eu_lufop_gatso_130kmh_2021-08-06_garmin.gpx"), source="lufop-gpx")
    assert report.format == "gpx" and report.rows == 214 and not report.rejections
    assert set(Camera.objects.values_list("speed", flat=True)) == {130}
    assert Camera.objects.filter(type=CameraType.SECTION_START).exists()


def test_the_spanish_dgt_sections_import_as_mobile_zones_with_end_points(shared):
    report = import_file(shared("es_dgt_radares_2018.xml"), source="dgt")
    assert report.format == "dgt-xml"
    assert report.rows == 1_319 and not report.rejections
    assert report.created + len(report.merged) == 1_319
    zone = Camera.objects.get(road="CM-3215", lat__range=(38.61496, 38.61498))
    assert (zone.kind, zone.type, zone.country) == (Kind.MOBILE, CameraType.MOBILE_ZONE, "ES")
    assert (zone.end_lat, zone.end_lon) == (pytest.approx(38.60391), pytest.approx(-1.67337))
    assert set(Camera.objects.values_list("country", flat=True)) <= {"ES", "PT", "FR", "AD", "GI"}


def test_a_garmin_csv_declared_utf8_but_written_in_latin1_is_read_correctly(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes('11.57612,48.13715,"Blitzer@50","München Ampel"\n'.encode("latin-1"))
    import_file(path, source="x", fmt="garmin-csv")
    assert Camera.objects.get().description == "München Ampel"


def test_an_xml_bomb_is_refused_before_anything_is_written(tmp_path):
    from cameras.formats import FormatError

    bomb = tmp_path / "bomb.gpx"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                    '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
                    '<wpt lat="48.1" lon="11.5"><name>&lol2;</name></wpt></gpx>')
    with pytest.raises(FormatError, match="entit"):
        import_file(bomb, source="x")
    assert Camera.objects.count() == 0
