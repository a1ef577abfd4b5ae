"""Garmin GPI: one native binary file per category with alerts and an embedded icon, read back by
GPSBabel and by an independent record-tree reader; GPSBabel's own writer gives the same bytes."""

import struct
from functools import partial

import numpy as np
import pytest

from exporters import icons
from exporters.base import CameraSet, ExportError, ExportOptions, get_exporter
from exporters.schema import CameraType as T
from exporters.schema import Kind

from . import interchange
from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras
from tests.exporters.interchange import (assert_same_bytes_in_any_order, assert_same_points, category_title, check_golden_files,
                          gpsbabel, gpsbabel_read_files)
from .readers.gpi_reader import GpiFormatError, read_gpi

# One file (= group) per category: interchange.CATEGORY_TITLE.
LABEL = {
    T.SPEED: "Speed", T.RED_LIGHT: "Red light", T.RED_LIGHT_SPEED: "Red light+speed", T.SECTION_START: "Section start",
    T.SECTION_END: "Section end", T.MOBILE_ZONE: "Mobile zone", T.TUNNEL: "Tunnel", T.VARIABLE_LIMIT: "Variable limit",
    T.DANGER_ZONE: "Danger zone", T.LEVEL_CROSSING: "Level crossing", T.SECTION: "Section", T.MOBILE_CAMERA: "Mobile",
    T.POLICE_CHECK: "Police check", T.DISTANCE: "Distance", T.BUS_LANE: "Bus lane", T.OTHER: "Camera",
    T.ROUTE_ENFORCEMENT: "Route enforcement",
}


export = partial(interchange.export, "garmin-gpi")


def gpi_files(result):
    return {f.name: f for f in result.files if f.name.endswith(".gpi")}


def expected_name(row) -> str:
    """"Speed 50 Rue de Rivoli": label, speed when known (in mph for GB and US: "Speed 30 mph
    Broadway"), road; at most 44 characters."""
    parts = [LABEL[row["type"]], interchange.shown_speed(row), row.get("road", "")]
    return " ".join(p for p in parts if p)[:44].rstrip()


def expected_comment(row) -> str:
    return ", ".join(p for p in (row.get("description", ""), row.get("road", "")) if p)


def semicircles(deg: float) -> int:
    """Degrees -> semicircles rounded to nearest (halves away from zero), computed independently."""
    v = deg * 2**31 / 180
    return int(v + 0.5) if v >= 0 else -int(-v + 0.5)


def proximity_m(speed: int) -> int:
    """The scaled alert distance, written out from the documented rule: 300 m up to 50 km/h,
    500 m up to 90, 800 m up to 110, 1,000 m above, 500 m when the limit is unknown."""
    if not speed:
        return 500
    return 300 if speed <= 50 else 500 if speed <= 90 else 800 if speed <= 110 else 1000


def gpsbabel_read(f, tmp_path) -> list[dict]:
    return interchange.gpsbabel_read_file("garmin_gpi", f, tmp_path)


def all_pois(result):
    out = []
    for name, f in gpi_files(result).items():
        out += [(name, p) for p in read_gpi(f.data).pois]
    return out


# ---------------------------------------------------------------------------------------
# Content (independent reader)


def test_every_sample_camera_is_in_the_file_of_its_category_at_its_semicircle_position():
    result = export(mobile=True)
    seen = {}
    for name, f in gpi_files(result).items():
        parsed = read_gpi(f.data)
        assert len(parsed.groups) == 1
        assert len(parsed.pois) == f.count
        assert name == parsed.groups[0].name.replace(" ", "_") + ".gpi"
        for p in parsed.pois:
            seen.setdefault((p.lat_sc, p.lon_sc), []).append(p.category)
    assert sum(len(v) for v in seen.values()) == len(SAMPLE_ROWS) == 24
    for row in SAMPLE_ROWS:
        assert seen[(semicircles(row["lat"]), semicircles(row["lon"]))] == [category_title(row)], row["id"]


def test_names_carry_the_speed_and_comments_the_description_and_road():
    by_name = {p.name: p for _, p in all_pois(export(mobile=True))}
    assert set(by_name) == {expected_name(r) for r in SAMPLE_ROWS}
    for row in SAMPLE_ROWS:
        assert by_name[expected_name(row)].comment == expected_comment(row), row["id"]
    assert by_name["Speed 50 Rue de Rivoli"].comment == "Paris centre, Rue de Rivoli"
    assert by_name["Red light"].comment == "München Ampel"
    long_name = "Speed 110 Périphérique extérieur très long n"
    assert len(long_name) == 44 and long_name in by_name


def test_every_camera_alerts_at_any_speed_at_a_distance_scaled_by_its_limit():
    """No alert carries a speed (a speed alert is reported to sound only above it): each is a
    proximity alert, 300/500/800/1,000 m by the limit, 500 m when the limit is unknown."""
    by_name = {p.name: p for _, p in all_pois(export(mobile=True))}
    for row in SAMPLE_ROWS:
        poi = by_name[expected_name(row)]
        assert poi.proximity_m == proximity_m(row.get("speed", 0)), row["id"]
        assert poi.alert.speed_cms == 0 and poi.speed_kmh is None, row["id"]
        # bytes 4-11 as GPSBabel writes a proximity-only alert: on, byte 10 = 4
        assert poi.alert.flags == bytes([0, 1, 0x10, 0, 1, 1, 4, 0x10]), row["id"]
        assert poi.alert.on
    assert [by_name[n].proximity_m for n in ("Mobile 50", "Red light+speed 70 A7", "Speed 100 A23", "Speed 130 A2",
                                             "Red light")] == [300, 500, 800, 1000, 500]
    assert {p.proximity_m for _, p in all_pois(export(mobile=True))} == {300, 500, 800, 1000}


def test_one_proximity_for_every_camera_when_the_option_gives_one():
    pois = [p for _, p in all_pois(export(mobile=True, proximity_m=450))]
    assert len(pois) == 24 and {p.proximity_m for p in pois} == {450} and {p.alert.speed_cms for p in pois} == {0}


def test_the_limits_at_the_edges_of_the_steps_get_their_distances():
    speeds = [0, 5, 30, 50, 51, 70, 90, 91, 110, 111, 130, 250]
    rows = [dict(id=i + 1, lat=48.0 + i * 0.01, lon=2.0, speed=sp) for i, sp in enumerate(speeds)]
    pois = read_gpi(gpi_files(export(CameraSet.from_records(rows)))["Speed_cameras.gpi"].data).pois
    got = {p.name: p.proximity_m for p in pois}
    assert got == {(f"Speed {sp}" if sp else "Speed"): proximity_m(sp) for sp in speeds}
    assert [proximity_m(sp) for sp in speeds] == [500, 300, 300, 300, 500, 500, 500, 800, 800, 1000, 1000, 1000]


def test_each_file_embeds_its_category_icon_as_a_24_pixel_8_bit_bitmap_with_magenta_transparent():
    result = export(mobile=True)
    for name, f in gpi_files(result).items():
        parsed = read_gpi(f.data)
        (bitmap,) = parsed.groups[0].bitmaps
        assert (bitmap.id, bitmap.width, bitmap.height, bitmap.bits) == (0, 24, 24, 8)
        assert bitmap.transparent == 0x00FF00FF and tuple(bitmap.palette[0]) == (255, 0, 255)
        assert {p.bitmap_ref for p in parsed.pois} == {0}
        icon = np.asarray(icons.draw_icon(f.category, 0, 24, "speed").convert("RGBA"))
        clear = icon[..., 3] < 128
        assert (bitmap.pixels[clear] == 0).all() and (bitmap.pixels[~clear] != 0).all(), name
        assert (bitmap.rgb()[~clear] == icon[..., :3][~clear]).all(), name


def test_the_france_icon_set_embeds_the_danger_sign_in_every_file():
    danger = np.asarray(icons.draw_icon("danger", 0, 24, "fr-danger").convert("RGBA"))
    for f in gpi_files(export(icons="fr-danger")).values():
        bitmap = read_gpi(f.data).groups[0].bitmaps[0]
        shown = danger[..., 3] >= 128
        assert (bitmap.rgb()[shown] == danger[..., :3][shown]).all()
        assert (bitmap.pixels[~shown] == 0).all()


def test_mobile_cameras_are_only_exported_when_asked():
    assert "Mobile_cameras.gpi" not in gpi_files(export())
    mobile = gpi_files(export(mobile=True))["Mobile_cameras.gpi"]
    assert mobile.count == 3
    assert sorted(p.name for p in read_gpi(mobile.data).pois) == ["Mobile 50", "Mobile zone M-30", "Police check"]


WORLD_ROWS = [dict(id=1, lat=51.759, lon=19.456, speed=50, road="Łódź ul. Piotrkowska", description="Śródmieście"),
              dict(id=2, lat=55.75, lon=37.61, speed=60, road="Тверская", description="Москва"),
              dict(id=3, lat=37.98, lon=23.72, speed=50, road="Λεωφόρος Συγγρού", description="Αθήνα"),
              dict(id=4, lat=48.1, lon=11.5, speed=30, road="Münchner Straße — Süd"),
              dict(id=5, type=T.RED_LIGHT, lat=48.2, lon=11.6, road="Leopoldstraße", description="Ampel Nord")]
WORLD_NAMES = {"Speed 50 Łódź ul. Piotrkowska", "Speed 60 Тверская", "Speed 50 Λεωφόρος Συγγρού",
               "Speed 30 Münchner Straße — Süd"}


def test_a_file_with_names_outside_windows_1252_is_utf8_with_code_page_65001():
    result = export(CameraSet.from_records(WORLD_ROWS))
    data = gpi_files(result)["Speed_cameras.gpi"].data
    parsed = read_gpi(data)
    assert parsed.code_page == 65001
    assert {p.name for p in parsed.pois} == WORLD_NAMES
    assert {p.comment for p in parsed.pois} == {"Śródmieście, Łódź ul. Piotrkowska", "Москва, Тверская",
                                                "Αθήνα, Λεωφόρος Συγγρού", "Münchner Straße — Süd"}
    assert "Тверская".encode("utf-8") in data and "Münchner".encode("utf-8") in data
    assert any(n.startswith("3 camera names or comments have characters outside Windows-1252") and "65001" in n
               for n in result.notes)
    assert not any("transliterated" in n for n in result.notes)


def test_a_file_whose_names_fit_windows_1252_keeps_code_page_1252():
    result = export(CameraSet.from_records(WORLD_ROWS))
    data = gpi_files(result)["Red-light_cameras.gpi"].data  # the same export: only its own names count
    parsed = read_gpi(data)
    assert parsed.code_page == 1252
    assert [p.name for p in parsed.pois] == ["Red light Leopoldstraße"]
    assert "Leopoldstraße".encode("cp1252") in data and "Leopoldstraße".encode("utf-8") not in data
    latin = export(CameraSet.from_records(WORLD_ROWS[3:]))
    assert {read_gpi(f.data).code_page for f in gpi_files(latin).values()} == {1252}
    assert not any("outside Windows-1252" in n for n in latin.notes)


def test_gpsbabel_reads_cyrillic_polish_and_greek_names_back_exactly(tmp_path):
    result = export(CameraSet.from_records(WORLD_ROWS))
    rows = gpsbabel_read_files("garmin_gpi", gpi_files(result).values(), tmp_path)
    expected = {expected_name({"type": T.SPEED, **r}) for r in WORLD_ROWS}
    assert {r["Name"] for r in rows} == expected  # no alert speed: GPSBabel adds no "@"
    assert {r["Description"] for r in rows} == {expected_comment(r) for r in WORLD_ROWS}


def test_a_device_that_needs_windows_1252_gets_transliterated_names():
    from exporters.devices import get_device

    exporter = get_device("garmin-nuvi").exporter()
    assert exporter.transliterate and not get_device("garmin-drivesmart").exporter().transliterate
    result = exporter.render(CameraSet.from_records(WORLD_ROWS), ExportOptions())
    parsed = read_gpi(gpi_files(result)["Speed_cameras.gpi"].data)
    assert parsed.code_page == 1252
    assert {p.name for p in parsed.pois} == {"Speed 50 Lódz ul. Piotrkowska", "Speed 60 Tverskaya",
                                             "Speed 50 Leoforos Syggroy", "Speed 30 Münchner Straße — Süd"}
    assert any(n.startswith("3 camera names or comments had characters outside Windows-1252 and were "
                            "transliterated") for n in result.notes)


def test_the_utf8_files_match_the_golden_files():
    result = export(CameraSet.from_records(WORLD_ROWS))
    check_golden_files("garmin-gpi-utf8", list(gpi_files(result).values()), (".gpi",))


def test_names_are_cut_to_44_characters_before_utf8_encoding():
    road = "Проспект Маршала Жукова и еще очень длинное название"
    rows = [dict(id=1, lat=55.75, lon=37.61, speed=60, road=road)]
    (poi,) = read_gpi(gpi_files(export(CameraSet.from_records(rows)))["Speed_cameras.gpi"].data).pois
    assert poi.name == ("Speed 60 " + road)[:44].rstrip() and len(poi.name.encode("utf-8")) > 44


def test_an_at_sign_in_a_road_never_reaches_the_name():
    rows = [dict(id=1, lat=48.0, lon=2.0, speed=70, road="A1@Exit 5")]
    (poi,) = read_gpi(gpi_files(export(CameraSet.from_records(rows)))["Speed_cameras.gpi"].data).pois
    assert poi.name == "Speed 70 A1 Exit 5" and poi.comment == "A1 Exit 5"


def test_longitude_180_is_stored_as_minus_180_the_same_meridian():
    rows = [dict(id=1, lat=-16.5, lon=180.0, speed=50), dict(id=2, lat=-16.6, lon=-180.0, speed=50),
            dict(id=3, lat=90.0, lon=179.999999, speed=50)]
    pois = read_gpi(gpi_files(export(CameraSet.from_records(rows)))["Speed_cameras.gpi"].data).pois
    assert sorted((p.lat_sc, p.lon_sc) for p in pois) == sorted([
        (semicircles(-16.5), -2**31), (semicircles(-16.6), -2**31), (2**30, semicircles(179.999999))])


def test_the_header_says_grmrec_version_00_code_page_1252_and_labels_the_file():
    for name, f in gpi_files(export()).items():
        parsed = read_gpi(f.data)
        assert (parsed.version, parsed.code_page, parsed.label) == ("00", 1252, name)
        assert f.data.endswith(b"\xff\xff\x00\x00\x00\x00\x00\x00")


# ---------------------------------------------------------------------------------------
# Areas


def test_areas_are_kd_halves_of_at_most_128_pois_sorted_by_name():
    rows = [dict(id=i + 1, lat=45 + (i % 40) * 0.01, lon=7 + (i // 40) * 0.013, speed=(30, 50, 70)[i % 3],
                 road=f"Road {i % 17}") for i in range(1000)]
    parsed = read_gpi(gpi_files(export(CameraSet.from_records(rows)))["Speed_cameras.gpi"].data)
    assert len(parsed.pois) == 1000
    assert [len(a.pois) for a in parsed.areas] == [125] * 8   # 1000 -> 500 -> 250 -> 125
    for area in parsed.areas:   # the reader checked that every POI lies in its area's box
        names = [parsed.pois[i].name.encode("cp1252") for i in area.pois]
        assert names == sorted(names)
        assert area.alert_flag == 1
    boxes = [(a.min_lon, a.max_lon, a.min_lat, a.max_lat) for a in parsed.areas]
    overlapping = sum(1 for i, a in enumerate(boxes) for b in boxes[i + 1:]
                      if a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3])
    assert overlapping == 0   # median splits give disjoint boxes on this grid


def test_many_cameras_at_the_same_place_still_fill_areas_of_at_most_128():
    rows = [dict(id=i + 1, lat=48.0, lon=2.0, speed=50) for i in range(300)]
    parsed = read_gpi(gpi_files(export(CameraSet.from_records(rows)))["Speed_cameras.gpi"].data)
    assert sorted(len(a.pois) for a in parsed.areas) == [75, 75, 75, 75]


# ---------------------------------------------------------------------------------------
# Errors and notes


def test_a_speed_beyond_what_an_alert_speed_could_hold_is_only_text():
    """The alert carries no speed, so no limit is refused: 1,200 km/h (over 32767 cm/s) is in the name."""
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[1]["speed"] = 1200
    pois = [p for _, p in all_pois(export(CameraSet.from_records(rows)))]
    (poi,) = [p for p in pois if p.name.startswith("Speed 1200")]
    assert (poi.proximity_m, poi.alert.speed_cms) == (1000, 0)


def test_a_camera_without_a_valid_position_is_refused_with_its_id():
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[4]["lon"] = 181.0
    with pytest.raises(ExportError, match=r"Garmin GPI cannot store 1 camera.*id 5"):
        export(CameraSet.from_records(rows))


def test_a_proximity_beyond_what_the_alert_record_holds_is_refused():
    with pytest.raises(ExportError, match="proximity 40000 m is outside 1-5000 m"):
        export(proximity_m=40_000)


def test_an_empty_selection_gives_no_files_and_says_so():
    only_mobile = CameraSet.from_records([dict(id=1, type=T.MOBILE_CAMERA, kind=Kind.MOBILE, lat=1.0, lon=1.0)])
    result = export(only_mobile)
    assert result.files == [] and "nothing to export" in result.notes[0]


def test_the_result_says_alerts_are_not_direction_aware_and_where_the_speed_is():
    exporter = get_exporter("garmin-gpi")
    assert (exporter.direction_aware, exporter.speed_carried_as, exporter.encoding) == (False, "name", "cp1252")
    notes = " ".join(export(proximity_m=250).notes)
    assert "not direction-aware" in notes
    assert "proximity alert at 250 m." in notes and "sounds at any speed" in notes and "'Speed 50 A7'" in notes
    scaled = " ".join(export().notes)
    assert ("300 m up to 50 km/h, 500 m up to 90 km/h, 800 m up to 110 km/h, 1,000 m above 110 km/h" in scaled
            and "500 m when the limit is unknown" in scaled)


# ---------------------------------------------------------------------------------------
# The reader is strict


def test_the_reader_catches_wrong_length_fields():
    data = gpi_files(export())["Red-light_cameras.gpi"].data
    group_at = 8 + struct.unpack_from("<I", data, 4)[0] + 8 + 12
    assert struct.unpack_from("<H", data, group_at)[0] == 9
    too_long = bytearray(data)
    struct.pack_into("<I", too_long, group_at + 4, len(data))
    with pytest.raises(GpiFormatError, match="runs past the end"):
        read_gpi(bytes(too_long))
    bad_main = bytearray(data)
    total = struct.unpack_from("<I", data, group_at + 4)[0]
    struct.pack_into("<I", bad_main, group_at + 8, total + 1)
    with pytest.raises(GpiFormatError, match="main part .* longer than the record"):
        read_gpi(bytes(bad_main))
    area_at = data.index(b"\x08\x00\x08\x00", group_at + 12)
    short_area = bytearray(data)
    struct.pack_into("<I", short_area, area_at + 4, struct.unpack_from("<I", data, area_at + 4)[0] - 1)
    with pytest.raises(GpiFormatError):
        read_gpi(bytes(short_area))


# ---------------------------------------------------------------------------------------
# GPSBabel


def test_gpsbabel_reads_every_sample_camera_with_name_speed_comment_and_proximity(tmp_path):
    result = export(mobile=True)
    got = {r["Name"]: r for r in gpsbabel_read_files("garmin_gpi", gpi_files(result).values(), tmp_path)}
    assert len(got) == 24
    for row in SAMPLE_ROWS:
        r = got[expected_name(row)]   # no alert speed, so GPSBabel adds no "@" to the name
        assert abs(float(r["Latitude"]) - row["lat"]) <= 1e-6 and abs(float(r["Longitude"]) - row["lon"]) <= 1e-6
        assert r["Description"] == expected_comment(row)
        assert r["Proximity"] == str(proximity_m(row.get("speed", 0))), row["id"]
        assert r.get("Speed", "") == "", row["id"]
    assert got["Speed 50 Rue de Rivoli"]["Description"] == "Paris centre, Rue de Rivoli"
    expected = np.array([(r["lat"], r["lon"]) for r in SAMPLE_ROWS])
    assert_same_points(expected, np.array([(float(r["Latitude"]), float(r["Longitude"])) for r in got.values()]),
                       tol=1e-6)


def test_gpsbabel_writes_the_same_bytes_after_the_file_header(tmp_path):
    """GPSBabel 1.8.0 given the same POIs, each with its proximity (no speed), and the icon writes
    our records byte for byte: proximity-only alert records with GPSBabel's own flag bytes."""
    rows = [dict(id=1, lat=48.856613, lon=2.352222, speed=50, road="Rue de Rivoli", description="Paris centre"),
            dict(id=2, lat=-33.868820, lon=151.209296, speed=130, road="A2"),
            dict(id=3, lat=40.712776, lon=-74.005974, road="Broadway", description="No limit known")]
    ours = gpi_files(export(CameraSet.from_records(rows)))["Speed_cameras.gpi"].data
    (tmp_path / "in.csv").write_text(
        "Latitude,Longitude,Name,Description,Proximity\n"
        '48.856613,2.352222,Speed 50 Rue de Rivoli,"Paris centre, Rue de Rivoli",300\n'
        "-33.868820,151.209296,Speed 130 A2,A2,1000\n"
        '40.712776,-74.005974,Speed Broadway,"No limit known, Broadway",500\n', encoding="utf-8")
    (tmp_path / "icon.bmp").write_bytes(icons.to_bmp(icons.draw_icon("fixed", 0, 24, "speed"), 8))
    gpsbabel("-i", "unicsv", "-f", str(tmp_path / "in.csv"), "-o",
             "garmin_gpi,category=Speed cameras,alerts=1,unique=0,bitmap=" + str(tmp_path / "icon.bmp"),
             "-F", str(tmp_path / "babel.gpi"), timeout=60)
    babel = (tmp_path / "babel.gpi").read_bytes()

    def after_header0(data):
        return data[8 + struct.unpack_from("<I", data, 4)[0]:]

    assert after_header0(babel) == after_header0(ours)
    assert read_gpi(babel).label == "my.gpi" and read_gpi(ours).label == "Speed_cameras.gpi"


def test_gpsbabel_with_writecodec_utf8_writes_the_same_bytes_as_a_utf8_file(tmp_path):
    """GPSBabel 1.8.0 asked for UTF-8 (code page 65001) writes our UTF-8 file's records byte for byte."""
    rows = [dict(id=1, lat=55.75, lon=37.61, speed=60, road="Тверская", description="Москва"),
            dict(id=2, lat=37.98, lon=23.72, speed=50, road="Συγγρού")]
    ours = gpi_files(export(CameraSet.from_records(rows), proximity_m=450))["Speed_cameras.gpi"].data
    (tmp_path / "in.csv").write_text(
        "Latitude,Longitude,Name,Description\n"
        '55.75,37.61,Speed 60 Тверская,"Москва, Тверская"\n'
        "37.98,23.72,Speed 50 Συγγρού,Συγγρού\n", encoding="utf-8")
    (tmp_path / "icon.bmp").write_bytes(icons.to_bmp(icons.draw_icon("fixed", 0, 24, "speed"), 8))
    gpsbabel("-i", "unicsv", "-f", str(tmp_path / "in.csv"), "-o",
             "garmin_gpi,category=Speed cameras,alerts=1,proximity=450m,unique=0,writecodec=utf8,bitmap="
             + str(tmp_path / "icon.bmp"), "-F", str(tmp_path / "babel.gpi"), timeout=60)
    babel = (tmp_path / "babel.gpi").read_bytes()

    def after_header0(data):
        return data[8 + struct.unpack_from("<I", data, 4)[0]:]

    assert read_gpi(babel).code_page == read_gpi(ours).code_page == 65001
    assert after_header0(babel) == after_header0(ours)


def test_fifty_thousand_cameras_round_trip_through_gpsbabel_and_the_reader(tmp_path):
    cams = scaled_cameras(50_000)
    result = export(cams, mobile=True)
    babel, reader, babel_prox, prox, areas = [], [], [], [], []
    for f in gpi_files(result).values():
        rows = gpsbabel_read(f, tmp_path)
        parsed = read_gpi(f.data)
        assert len(rows) == len(parsed.pois) == f.count
        babel += [(float(r["Latitude"]), float(r["Longitude"])) for r in rows]
        babel_prox += [int(r["Proximity"]) for r in rows]
        reader += [(p.lat, p.lon) for p in parsed.pois]
        prox += [p.proximity_m for p in parsed.pois]
        assert {p.alert.speed_cms for p in parsed.pois} == {0}
        areas += [len(a.pois) for a in parsed.areas]
    expected = np.column_stack([cams["lat"], cams["lon"]])
    expected_prox = np.array([proximity_m(int(sp)) for sp in cams["speed"]])
    assert len(babel) == len(reader) == 50_000
    babel_match = assert_same_points(expected, np.array(babel), tol=1e-6)
    match = assert_same_points(expected, np.array(reader), tol=1e-7)
    assert (np.array(prox)[match] == expected_prox).all()
    assert (np.array(babel_prox)[babel_match] == expected_prox).all()
    assert set(expected_prox.tolist()) == {300, 500, 800, 1000}
    assert max(areas) <= 128 and min(areas) >= 64


# ---------------------------------------------------------------------------------------
# Determinism and golden files


def test_rendering_twice_or_in_another_order_gives_the_same_bytes():
    assert_same_bytes_in_any_order("garmin-gpi", scaled_cameras(3_000), seed=5)


def test_creation_stamps_come_from_the_content_and_differ_between_the_files_of_an_export():
    stamps = [read_gpi(f.data).created_unix for f in export(mobile=True).files]
    assert len(set(stamps)) == len(stamps) == 6
    assert stamps == [stamps[0] + i for i in range(6)]
    assert 1_451_606_400 <= stamps[0] <= 1_451_606_400 + 2**28   # 2016 .. 2024, never the clock
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[0]["speed"] = 30
    changed = [read_gpi(f.data).created_unix for f in export(CameraSet.from_records(rows), mobile=True).files]
    assert changed[0] != stamps[0]
    fixed = get_exporter("garmin-gpi").__class__(created_unix=1_767_225_600).render(sample_cameras(), ExportOptions())
    assert [read_gpi(f.data).created_unix for f in fixed.files] == [1_767_225_600 + i for i in range(5)]


def test_the_sample_export_matches_the_golden_files():
    check_golden_files("garmin-gpi", export(mobile=True).files, (".gpi",))


def test_a_cold_gpi_build_with_france_zones_does_not_import_numpy_ma():
    """numpy.ma costs 10 to 40 ms of a cold package build; only a plain np.unique() imports it
    (``textrows.distinct`` is used instead)."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from exporters.base import ExportOptions, load_plugins, get_exporter; load_plugins(); "
            "from tests.exporters.fixtures import scaled_cameras; "
            "get_exporter('garmin-gpi').render(scaled_cameras(3000), ExportOptions(mobile=True, fr_danger_zones=True)); "
            "print('numpy.ma' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
