"""The corpus in tests/data/corpus: camera lists as people publish them, imported with
``--format auto`` (and the mapping file shipped beside a list where no inference could know
its meaning). Each test states what a careful reader of the file would store
(tests/data/README.md describes every file and its source)."""

from collections import Counter
from pathlib import Path

import pytest

from cameras.importing import import_file
from cameras.models import Camera
from cameras.table_import import table_options
from exporters.schema import CameraType, DirectionMode, Kind

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def load(name, source):
    """Import a corpus file as the command would (auto format, its mapping file if any)."""
    path = CORPUS / name
    mapping = path.with_name(path.stem + ".map.toml")
    with table_options(source, str(mapping) if mapping.exists() else None, None, False):
        report = import_file(path, source=source, fmt="auto", skip_invalid=True)
    # Nothing lost without a word: every row is a camera, a listed merge or a listed rejection.
    assert report.rows == report.created + len(report.merged) + len(report.rejections)
    return report


def cams(source):
    return Camera.objects.filter(source__name=source)


def by_ref(source, ref):
    return Camera.objects.get(links__source__name=source, links__ref=ref)


def types(source):
    return Counter(CameraType(t) for t in cams(source).values_list("type", flat=True))


def mph(value):
    return round(value * 1.609344)


# --------------------------------------------------------------------------- real data


# The mapping file says every row is a red-light camera ([defaults] type).
def test_toronto_red_light_cameras_are_red_light_cameras_at_their_latitude_longitude():
    report = load("ca_toronto_red_light_cameras_2018.csv", "toronto")
    assert report.format == "table"
    assert report.rows == 154 and not report.rejections
    # X/Y are MTM metres; the positions come from Latitude/Longitude, all in Toronto.
    assert set(cams("toronto").values_list("country", flat=True)) == {"CA"}
    assert types("toronto") == {CameraType.RED_LIGHT: 145}
    # The file is two lists one after the other: 9 intersections (PX) are listed twice with
    # rounded coordinates; each is the same camera listed again.
    repeats = [m for m in report.merged if m[1] == "repeat of line"]
    assert len(repeats) == 9 and all(m[3] < 5 for m in repeats)
    assert report.created == 145
    assert by_ref("toronto", "12").road == "JARVIS ST"
    # The rows whose X/Y are 0,0 still have their latitude/longitude.
    assert by_ref("toronto", "567").lat == pytest.approx(43.62353758)


def test_french_2025_list_in_cp1252_with_equipment_codes_reads_types_speeds_and_ids():
    report = load("fr_radars_fixes_2025-12_subset.csv", "fr-2025")
    assert report.format == "table"
    assert report.rows == 38 and not report.rejections and not report.merged
    assert any("cp1252" in text for _, text in report.notes)
    assert types("fr-2025") == {CameraType.SPEED: 30, CameraType.RED_LIGHT: 4, CameraType.LEVEL_CROSSING: 4}
    assert by_ref("fr-2025", "595").speed == 130
    assert by_ref("fr-2025", "660").speed == 30
    assert by_ref("fr-2025", "FE238000").speed is None  # "NA"
    # Overseas: Guadeloupe, French Guiana, Martinique, Réunion are France, not swapped.
    assert report.swapped == []
    for ref in ("789", "4763", "50307", "50409"):
        assert by_ref("fr-2025", ref).country in {"FR", "GP", "GF", "MQ", "RE"}
    # 5100-5105: one camera per lane, a metre apart; distinct ids are distinct cameras.
    assert all(by_ref("fr-2025", str(n)) for n in range(5100, 5106))
    # 12301 and 12302 share one position (one camera per carriageway): two cameras.
    assert by_ref("fr-2025", "12301").pk != by_ref("fr-2025", "12302").pk


def test_taiwan_list_with_a_label_row_keeps_every_camera_and_its_section_controls():
    report = load("tw_speed_enforcement_points_subset.csv", "tw")
    assert report.format == "table"
    # Line 2 repeats the header in Chinese: a second header row, noted, not a camera.
    assert report.rows == 28
    assert any(line == 2 and "second header row" in text for line, text in report.notes)
    rejected = {r.line: r.reason for r in report.rejections}
    # Line 27 lies in the sea (latitude 26.6 instead of 24.6).
    assert set(rejected) == {27}
    assert "country" in rejected[27]
    assert report.created == 26
    # Lines 28/29: two km posts with one copied position, same direction and type.
    assert [(m[0], m[2]) for m in report.merged] == [(29, 28)]
    assert types("tw") == {CameraType.SPEED: 21, CameraType.SECTION_START: 5}
    assert set(cams("tw").values_list("country", flat=True)) == {"TW"}
    assert set(cams("tw").values_list("speed", flat=True)) == {40, 50, 60, 70, 90}
    point = cams("tw").get(road="台9線68.6K北宜路一段南下")
    section = cams("tw").get(road="台9線68k+600m至56k+600m")
    assert (point.type, point.speed) == (CameraType.SPEED, 40)
    assert section.type == CameraType.SECTION_START and section.pk != point.pk


# The direction text names compass points (read as headings) or, on the Kinmen bridge, places
# (the mapping's [headings] table).
def test_taiwan_direction_words_become_headings():
    load("tw_speed_enforcement_points_subset.csv", "tw")
    assert cams("tw").get(road="台9線117k+772m新澳隧道北上").heading == 0      # 北上方向: northbound
    assert cams("tw").get(road="台9線109k+240m東澳隧道南下").heading == 180    # 南下方向: southbound
    assert cams("tw").get(road="台68線12.3公里處").heading == 90               # 西往東: west to east
    both = cams("tw").get(road="金湖鎮黃海路(陽明湖路段)")                        # 南北雙向: both ways
    assert (both.heading % 180, both.dir_mode) == (0, DirectionMode.BOTH)
    assert cams("tw").get(road="金門大橋5K至0.5K(西向)").heading == 270         # 大金往烈嶼: [headings]
    assert cams("tw").get(road="台68線12公里處").heading == 270                 # 東往西
    assert cams("tw").get(road="溪洲路與新溪街口").heading == 0                  # 南往北


# --------------------------------------------------------------------------- look-alikes


def at(source, lat):
    return cams(source).get(lat=lat)


def test_navitel_header_in_a_csv_file_keeps_directions_and_carriageway_pairs():
    report = load("de_navitel_speedcams-lookalike.csv", "navitel")
    assert report.format == "igo"
    assert report.rows == 12 and not report.rejections
    # IDX counts the rows (1..12), so it may serve as id or not; either way IDX 8 and 9
    # (lines 9 and 10: 17 m apart, no direction, same limit) are the only rows that may be
    # merged, with the real distance.
    assert report.created in (11, 12)
    assert all((m[0], m[2]) == (10, 9) and 15 < m[3] < 20 for m in report.merged)
    assert set(cams("navitel").values_list("type", flat=True)) == {CameraType.SPEED}
    # Navitel directions point at the approaching driver: turned round, -10 and 360 wrap.
    assert at("navitel", 52.565405).heading == 0
    assert at("navitel", 52.631229).heading == 170
    assert at("navitel", 52.430072).heading == 180
    # One camera per carriageway, 13 m apart, opposite ways: two cameras.
    assert {at("navitel", 52.461298).heading, at("navitel", 52.461176).heading} == {260, 80}
    # SPEED 0 is "unknown", not 0 km/h.
    assert at("navitel", 52.967689).speed is None
    assert at("navitel", 52.785932).speed == 120


def test_geojson_with_spanish_property_names_keeps_ids_roads_speeds_and_both_directions():
    report = load("ar_radares_buenos_aires-lookalike.geojson", "ar")
    assert report.rows == 10 and report.created == 10 and not report.merged
    assert set(cams("ar").values_list("country", flat=True)) == {"AR"}
    assert by_ref("ar", "URBAN_0348").speed == 60
    assert by_ref("ar", "LUTEC_020").speed is None  # "" = unknown
    assert by_ref("ar", "10_06_00226F").road == "Panamericana Ramal Troncal"
    # Two ids at one point are two cameras (opposite ways, and an A/B pair one way).
    assert by_ref("ar", "ENFORCER_048").pk != by_ref("ar", "ENFORCER_049").pk
    assert by_ref("ar", "VR003").pk != by_ref("ar", "VR004").pk
    # The source's mojibake (¿ for á) is kept as written, not turned into something else.
    assert by_ref("ar", "ENFORCER_232").road == "Avenida Juan S. Fern\u00bfndez"


def test_openspeedcam_list_with_comments_imports_cameras_and_lists_its_road_hazards():
    report = load("ru_openspeedcam-lookalike.txt", "ru")
    assert report.format == "igo"
    # report.rows counts records: rows 1-3, the section pair 4/5 (one record), 6 and the
    # danger zone 10; the three road signs are listed in the notes, not counted.
    assert report.rows == 6 and report.created == 6
    assert not report.rejections and not report.merged
    # Codes 100-102 (crossing, speed-limit sign, bump) are road signs, not cameras: each row is
    # listed in the report with its line and code, and nothing is stored at its position.
    signs = {line: text for line, text in report.notes if "road sign" in text}
    assert sorted(signs) == [9, 10, 11]
    assert all(f"TYPE {code}" in signs[line] for line, code in ((9, 100), (10, 101), (11, 102)))
    assert not cams("ru").filter(lat__in=[56.401234, 56.411234, 56.421234]).exists()
    assert at("ru", 56.431234).type == CameraType.DANGER_ZONE  # 106: other danger
    first = at("ru", 55.912345)
    assert (first.type, first.speed) == (CameraType.SPEED, 60)
    assert first.heading == 170  # IDX header: Navitel direction, turned round
    assert at("ru", 55.987654).type == CameraType.RED_LIGHT_SPEED
    assert at("ru", 56.012345).type == CameraType.RED_LIGHT
    assert at("ru", 56.301234).kind == Kind.MOBILE
    start = at("ru", 56.234567)
    assert start.type in (CameraType.SECTION_START, CameraType.SECTION)
    assert (start.end_lat, start.end_lon) == (pytest.approx(56.245678), pytest.approx(38.056789))
    assert cams("ru").count() == 6  # the section's end row is no camera of its own


def test_uk_igo_list_in_mph_is_converted_and_its_section_pairs_joined():
    report = load("gb_speedcam_mph-lookalike.txt", "gb-igo")
    # 11 rows, two of them section ends: 9 records (report.rows counts records).
    assert report.format == "igo" and report.rows == 9 and report.created == 9
    assert not report.rejections and not report.merged
    assert set(cams("gb-igo").values_list("country", flat=True)) == {"GB"}
    speeds = sorted(s for s in cams("gb-igo").values_list("speed", flat=True) if s)
    assert speeds[0] == mph(20) and mph(30) in speeds and mph(60) in speeds
    assert max(speeds) == mph(70)
    sections = cams("gb-igo").filter(type__in=[CameraType.SECTION_START, CameraType.SECTION],
                                     end_lat__isnull=False)
    assert sections.count() == 2
    assert not cams("gb-igo").filter(type=CameraType.SECTION_START, end_lat__isnull=True).exists()
    mobile = cams("gb-igo").get(kind=Kind.MOBILE)
    assert mobile.speed == mph(40)
    # TYPE 15 (congestion charge) is not a speed camera: reported with its code.
    assert any("15" in text for _, text in report.notes)


def test_chicago_speed_cameras_keep_ids_addresses_and_approach_directions():
    report = load("us_chicago_speed_cameras-lookalike.csv", "chicago")
    assert report.rows == 6 and report.created == 6 and not report.rejections
    assert types("chicago") == {CameraType.SPEED: 6}
    assert by_ref("chicago", "CHI018").road == "1111 N HUMBOLDT DR"
    assert by_ref("chicago", "CHI018").heading == 0     # NB: northbound traffic
    assert by_ref("chicago", "CHI022").heading == 180   # SB
    assert by_ref("chicago", "CHI034").heading == 270   # WB
    assert by_ref("chicago", "CHI045").heading == 90    # EB
    # A second, opposite approach: the camera checks both ways (the mapping joins both columns).
    both = by_ref("chicago", "CHI003")
    assert (both.heading, both.dir_mode) == (90, DirectionMode.BOTH)   # EB, WB
    assert by_ref("chicago", "CHI018").dir_mode == DirectionMode.ONE
    assert all(s is None for s in cams("chicago").values_list("speed", flat=True))


def test_us_city_kml_reads_mph_from_descriptions_and_keeps_street_segment_names():
    report = load("us_city_speed_cameras-lookalike.kml", "us-kml")
    assert report.format == "kml" and report.rows == 4 and report.created == 4
    assert types("us-kml") == {CameraType.SPEED: 3, CameraType.RED_LIGHT: 1}
    speeds = dict(cams("us-kml").values_list("lat", "speed"))
    assert speeds[37.7840] == mph(25) and speeds[37.7109] == mph(35) and speeds[37.7160] == mph(30)
    texts = [c.road + " " + c.description for c in cams("us-kml")]
    assert any("Market St to 5th St" in t for t in texts)
    assert any("Van Ness Ave at Geary Blvd" in t for t in texts)


def test_overpass_gpx_export_reads_the_osm_tags_in_its_descriptions():
    report = load("osm_overpass_export-lookalike.gpx", "overpass")
    assert report.format == "gpx" and report.rows == 4 and report.created == 4
    # OSM's direction= is the way the camera faces (Tag:highway=speed_camera); it photographs
    # the oncoming traffic, whose heading is stored: direction=90 -> 270, NE -> 225, as the
    # osm reader stores the same node.
    first = cams("overpass").get(lat=52.5200)
    assert by_ref("overpass", "node/1001").pk == first.pk  # <name>node/1001</name>: the OSM id is the ref
    assert (first.type, first.speed, first.heading, first.dir_mode) == (CameraType.SPEED, 50, 270, DirectionMode.ONE)
    assert cams("overpass").get(lat=52.5301).type in (CameraType.RED_LIGHT, CameraType.RED_LIGHT_SPEED)
    # direction=backward needs the way the node is on, which a GPX does not carry: left open.
    backward = cams("overpass").get(lat=52.5402)
    assert (backward.speed, backward.heading) == (30, None)
    munich = cams("overpass").get(lat=48.1371)
    assert (munich.speed, munich.heading) == (80, 225)
    assert "Leopoldstraße" in munich.road + munich.description


def test_google_my_maps_export_reads_wkt_types_from_names_and_strips_html():
    report = load("google_mymaps_export-lookalike.csv", "mymaps")
    assert report.format == "table" and report.rows == 4 and report.created == 4
    assert types("mymaps") == {CameraType.SPEED: 2, CameraType.RED_LIGHT: 2}
    assert [(c.country, c.type) for c in cams("mymaps").order_by("pk")] == [
        ("GB", CameraType.SPEED), ("GB", CameraType.RED_LIGHT), ("FR", CameraType.SPEED), ("DE", CameraType.RED_LIGHT)]
    birdcage = cams("mymaps").get(lat=51.5014)
    assert "Birdcage Walk & Horse Guards" in birdcage.description and "<b>" not in birdcage.description


def test_google_my_maps_speeds_in_names_use_the_units_of_their_country():
    load("google_mymaps_export-lookalike.csv", "mymaps")
    assert cams("mymaps").get(lat=51.5014).speed == mph(30)  # London: mph
    assert cams("mymaps").get(lat=48.8584).speed == 50       # Paris: km/h


def test_polish_list_in_cp1250_with_decimal_commas_reads_types_and_names():
    report = load("pl_fotoradary_cp1250-lookalike.csv", "pl")
    assert report.format == "table" and report.rows == 4 and report.created == 4
    assert set(cams("pl").values_list("country", flat=True)) == {"PL"}
    assert cams("pl").get(road="DK7").speed == 70
    red = cams("pl").get(road="ul. Nowohucka")
    assert (red.type, red.speed) == (CameraType.RED_LIGHT, None)
    assert cams("pl").get(road="S1").type == CameraType.SECTION_START
    assert cams("pl").filter(road="ul. Słowackiego").exists()  # cp1250 letters intact


def test_plain_json_list_of_new_zealand_cameras():
    report = load("nz_safety_cameras-lookalike.json", "nz")
    assert report.format == "table" and report.rows == 4 and report.created == 3
    # RL009 is "Planned": listed with its status, not stored as a camera.
    assert [(r.line, "'Planned'" in r.reason) for r in report.rejections] == [(4, True)]
    assert types("nz") == {CameraType.RED_LIGHT: 1, CameraType.SPEED: 1, CameraType.SECTION_START: 1}
    assert set(cams("nz").values_list("country", flat=True)) == {"NZ"}
    assert cams("nz").get(type=CameraType.SPEED).speed == 100  # km/h country: as written
    assert cams("nz").get(type=CameraType.SECTION_START).speed == 80
    assert cams("nz").filter(road="Esmonde Road and Fred Thomas Drive, Takapuna").exists()


def test_geojson_with_own_camera_property_names_in_mph():
    report = load("gb_cameras_own_properties-lookalike.geojson", "gb-geo")
    assert report.rows == 4 and report.created == 4 and not report.rejections
    fixed = by_ref("gb-geo", "cam-101")
    assert (fixed.type, fixed.speed, fixed.heading, fixed.road) == (CameraType.SPEED, mph(40), 90, "A40")
    assert "A40 Western Avenue" in fixed.description
    assert by_ref("gb-geo", "cam-102").type in (CameraType.RED_LIGHT, CameraType.RED_LIGHT_SPEED)
    assert by_ref("gb-geo", "cam-102").heading == 270
    assert by_ref("gb-geo", "cam-103").type in (CameraType.SECTION_START, CameraType.SECTION)
    assert by_ref("gb-geo", "cam-104").kind == Kind.MOBILE


# --------------------------------------------------------------------------- real data, second collection


# The mapping file says every row is a red-light camera ([defaults] type) and names
# CAMERA_FACING (Eastbound, Northbound...) as the heading column.
def test_ottawa_red_light_cameras_keep_their_approach_and_both_cameras_at_one_intersection():
    report = load("ca_ottawa_red_light_cameras_2024.csv", "ottawa-rlc")
    assert report.format == "table"
    assert report.rows == 85 and not report.rejections
    # Six intersections have two cameras at identical coordinates for two approaches
    # (ObjectId 18/34, 4/36, 6/56, 10/70, 20/77, 42/83): distinct ids, distinct cameras.
    assert report.created == 85 and not report.merged
    assert types("ottawa-rlc") == {CameraType.RED_LIGHT: 85}
    assert set(cams("ottawa-rlc").values_list("country", flat=True)) == {"CA"}
    first = by_ref("ottawa-rlc", "1")
    assert first.road == "Walkley Road and Russell Road/Hawthorn Road"
    assert first.lat == pytest.approx(45.39294866)  # LATITUDE, not the MTM X/Y
    assert first.heading == 90                      # Eastbound
    assert by_ref("ottawa-rlc", "2").heading == 180  # Southbound
    assert by_ref("ottawa-rlc", "3").heading == 0    # Northbound
    assert by_ref("ottawa-rlc", "4").heading == 270  # Westbound
    south, north = by_ref("ottawa-rlc", "18"), by_ref("ottawa-rlc", "34")
    assert south.pk != north.pk and (south.heading, north.heading) == (180, 0)
    assert (south.lat, south.lon) == (north.lat, north.lon)


def test_ottawa_speed_cameras_as_a_garmin_poi_csv_without_header():
    report = load("ca_ottawa_speed_cameras_garmin_2025.csv", "ottawa-ase")
    assert report.format == "garmin-csv"
    assert report.rows == 60 and report.created == 60
    assert not report.rejections and not report.merged  # nearest two are 492 m apart
    assert types("ottawa-ase") == {CameraType.SPEED: 60}  # comment "Speed Camera"
    assert set(cams("ottawa-ase").values_list("country", flat=True)) == {"CA"}
    assert all(s is None for s in cams("ottawa-ase").values_list("speed", flat=True))
    # Longitude comes first; the name is the camera's number.
    first = cams("ottawa-ase").get(lat=45.2814636)
    assert first.lon == pytest.approx(-75.74395486)
    assert "Camera E001" in first.road + " " + first.description
    # E018 is published with rounded coordinates (-75.77, 45.365); kept as given.
    assert cams("ottawa-ase").filter(lat=45.365, lon=-75.77).count() == 1


def test_ottawa_speed_cameras_as_tomtom_ov2_land_where_the_garmin_list_puts_them():
    report = load("ca_ottawa_speed_cameras_2025.ov2", "ottawa-ov2")
    assert report.format == "ov2"
    assert report.rows == 60 and report.created == 60
    assert not report.rejections and not report.merged
    assert set(cams("ottawa-ov2").values_list("country", flat=True)) == {"CA"}
    # OV2 stores 1e-5 degree integers: each camera within 2 m of the Garmin list's position.
    first = cams("ottawa-ov2").get(lat=45.28146)
    assert first.lon == pytest.approx(-75.74395)
    assert cams("ottawa-ov2").filter(lat=45.365, lon=-75.77).count() == 1


def test_ottawa_ov2_cameras_are_speed_cameras_and_their_number_is_no_road():
    report = load("ca_ottawa_speed_cameras_2025.ov2", "ottawa-ov2")
    # The file is the city's speed camera list (its name says so, like the Garmin copy's comment).
    assert types("ottawa-ov2") == {CameraType.SPEED: 60}
    assert any("60 record(s)" in text and "file name" in text for _, text in report.notes)
    first = cams("ottawa-ov2").get(lat=45.28146)
    assert first.road == ""  # E001 is the camera's number, not a road
    assert first.description == "Camera E001"


def test_toronto_automated_speed_enforcement_list_reads_lon_lat_and_location_text():
    report = load("ca_toronto_speed_cameras_ase_clean.csv", "toronto-ase")
    assert report.format == "table"
    assert report.rows == 198 and not report.merged
    assert report.rows == report.created + len(report.rejections)
    assert set(cams("toronto-ase").values_list("type", flat=True)) == {CameraType.SPEED}
    assert set(cams("toronto-ase").values_list("country", flat=True)) == {"CA"}
    first = by_ref("toronto-ase", "1")  # fid
    assert (first.lat, first.lon) == (pytest.approx(43.713609), pytest.approx(-79.567451))
    assert first.road == "Kipling Ave. North of Rexdale Blvd."


def test_toronto_planned_speed_cameras_are_not_active_cameras():
    report = load("ca_toronto_speed_cameras_ase_clean.csv", "toronto-ase")
    active = cams("toronto-ase").filter(status=Camera.Status.ACTIVE)
    assert active.count() == 149
    # fid 148-177, 179-183, 185-198 are planned: each listed with its status, not stored.
    planned_lines = {r.line for r in report.rejections if "'planned'" in r.reason}
    assert len(planned_lines) == len(report.rejections) == 49
    assert 149 in planned_lines and not cams("toronto-ase").filter(links__ref="148").exists()
    # fid 85 (active) and 179 (planned, 35 m away on the same road) are not one camera.
    assert active.filter(links__ref="85").exists()


UZ_FILES = ["uz_osm_speed_cameras_subset.csv", "uz_osm_speed_cameras_subset.json"]


@pytest.mark.parametrize("name", UZ_FILES)
def test_uzbekistan_osm_export_reads_speeds_compass_points_and_keeps_close_pairs(name):
    report = load(name, "uz")
    assert report.format == "table"
    assert report.rows == 21 and report.created == 21
    assert not report.rejections and not report.merged
    assert set(cams("uz").values_list("country", flat=True)) == {"UZ"}
    ayrilma = at("uz", 40.3708845)                   # id 3: 55 km/h, compass S
    assert (ayrilma.speed, ayrilma.heading) == (55, 180)
    assert at("uz", 41.5127171).speed is None        # id 8: empty speed_limit
    assert at("uz", 41.3101792).heading == 225       # id 6: SW
    ne, sw = at("uz", 40.3682824), at("uz", 40.368237)  # ids 155/156: 110 km/h, 8 m apart
    assert (ne.speed, ne.heading, sw.heading) == (110, 45, 225)
    # ids 40/41: 4 m apart facing N and S; ids 25/26: 15 m apart, no direction, distinct nodes.
    assert (at("uz", 39.819347).heading, at("uz", 39.8193813).heading) == (0, 180)
    assert at("uz", 41.2559).pk != at("uz", 41.2559013).pk


@pytest.mark.parametrize("name", UZ_FILES)
def test_uzbekistan_number_plate_readers_are_not_speed_cameras_and_names_are_kept(name):
    load(name, "uz")
    # camera_type alpr (number-plate reader: ids 453, 529, 562) and traffic_camera (ids 454, 563)
    # are not speed cameras: another enforcement kind, never SPEED.
    for lat in (40.7873766, 42.4462229, 41.3665805, 40.138047, 41.3665852):
        assert at("uz", lat).type != CameraType.SPEED
    assert types("uz")[CameraType.SPEED] == 16
    # road_direction holds the OSM name: a direction of travel or the device's name.
    nukus = at("uz", 41.2910272)  # id 81
    assert "Нукусская - Авлиё ота" in nukus.road + " " + nukus.description
    assert "АВТО РАДАР" in " ".join(c.road + " " + c.description for c in cams("uz"))


# No mapping file: the fr-radars reader recognises the rows of the list without its header and
# reads the order of the two limits from them (2018: lorry limit, then car limit).
def test_french_radar_list_copied_without_its_header_is_read_in_its_column_order_without_a_mapping():
    report = load("fr_radars_automatiques_2018_headerless_subset.csv", "fr-2018")
    assert report.format == "fr-radars"
    assert any("no header row" in text and "lorry limit before car limit" in text for _, text in report.notes)
    assert report.rows == 22 and report.created == 22
    assert not report.rejections and not report.merged
    # Rows: 10 Radar fixe + 3 Radar discriminant (speed), 3 Radar feu rouge, 2 Radar Passage à
    # Niveau, 2 Radar Vitesse Moyenne (sections: 16772, 16773) and 2 Itinéraire (route enforcement
    # along listed roads, not an average-speed section: 16875, 16876).
    assert types("fr-2018") == {CameraType.SPEED: 13, CameraType.RED_LIGHT: 3,
                                CameraType.LEVEL_CROSSING: 2, CameraType.SECTION: 2,
                                CameraType.ROUTE_ENFORCEMENT: 2}
    assert by_ref("fr-2018", "16772").type == CameraType.SECTION
    assert by_ref("fr-2018", "16876").type == CameraType.ROUTE_ENFORCEMENT
    assert by_ref("fr-2018", "13598").speed == 130
    assert by_ref("fr-2018", "13806").speed == 70      # car limit 70, not the lorry limit 50
    assert by_ref("fr-2018", "12923").speed is None    # red light, no limit given
    # 13616 (Montpellier, département 34) carries the position of 13673 at Évian, 10 m away:
    # an error in the source, but two ids, two cameras.
    assert by_ref("fr-2018", "13616").pk != by_ref("fr-2018", "13673").pk
    # 13609/13610: the two directions of the RD999 at Nîmes, 47 m apart.
    assert by_ref("fr-2018", "13609").pk != by_ref("fr-2018", "13610").pk
    # The route field was quoted twice upstream: the road is the text, without stray quotes.
    road = by_ref("fr-2018", "13618").road
    assert "Avenue de l'Europe" in road and '""' not in road
