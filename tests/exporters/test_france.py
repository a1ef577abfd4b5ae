"""France, legal mode (``ExportOptions(fr_danger_zones=True)``): what a device gets in France.

The zone lengths of the rules (300 m in built-up areas, 2 km on other roads, 4 km on
motorways), zones that contain their camera without giving it back, alert distances that
cover the zone, and for every format: no camera position, no speed, only danger zones. Points
are read back by the independent readers (OV2, GPI, iGO/Navitel, Sygic), by GPSBabel (GPX,
GPI) or by scanning the text for the camera's coordinates.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest

from exporters import france
from exporters.base import CameraSet, ExportOptions, get_exporter, load_plugins
from exporters.common import select
from exporters.package import package_notes
from exporters.schema import CameraType, DirectionMode, Kind
from tests.exporters.fixtures import sample_cameras
from tests.exporters.interchange import gpsbabel_read_files
from tests.exporters.readers.gpi_reader import read_gpi
from tests.exporters.readers.igo_reader import read_speedcam
from tests.exporters.readers.ov2_reader import read_ov2
from tests.exporters.readers.sygic_reader import read_sygic

T, D = CameraType, DirectionMode
M_PER_DEG = 111_195.0
KEY = b"test key"


def french_cameras(n: int = 300, seed: int = 3) -> CameraSet:
    """French cameras of every kind the zones treat differently: limits from 30 to 130 and
    none, motorway refs alone and in lists, street names, house numbers, headings one way,
    both ways and none, sections with and without an end point, route enforcement, mobile."""
    rng = np.random.default_rng(seed)
    types = rng.choice(np.array([T.SPEED, T.RED_LIGHT, T.SECTION, T.ROUTE_ENFORCEMENT, T.MOBILE_CAMERA,
                                 T.LEVEL_CROSSING], dtype=np.int16), n)
    mode = rng.choice(np.array([0, 1, 1, 2], dtype=np.int8), n)
    lat = np.round(rng.uniform(43.0, 50.0, n), 6)
    lon = np.round(rng.uniform(-1.0, 7.0, n), 6)
    section_end = (types == T.SECTION) & (rng.random(n) < 0.7)
    bearing = rng.uniform(0, 2 * np.pi, n)
    span = rng.uniform(1000, 8000, n)
    end_lat = np.where(section_end, np.round(lat + span * np.cos(bearing) / M_PER_DEG, 6), np.nan)
    end_lon = np.where(section_end, np.round(lon + span * np.sin(bearing) / (M_PER_DEG * np.cos(np.radians(lat))), 6),
                       np.nan)
    return CameraSet({
        "id": np.arange(1, n + 1, dtype=np.int64),
        "kind": np.where(types == T.MOBILE_CAMERA, Kind.MOBILE, Kind.FIXED).astype(np.int8),
        "type": types,
        "lat": lat, "lon": lon,
        "speed": rng.choice(np.array([0, 30, 50, 70, 80, 90, 110, 130], dtype=np.int16), n),
        "truck_speed": rng.choice(np.array([0, 70], dtype=np.int16), n),
        "heading": np.where(mode > 0, np.round(rng.uniform(0, 360, n), 1), np.nan).astype(np.float32),
        "dir_mode": mode,
        "country": np.full(n, "FR", dtype=object),
        "road": rng.choice(np.array(["A7", "A 86", "RN7", "D723", "Rue de Rivoli", "Avenue Foch, face au n°12",
                                     "D77, D64, A42", "RD 12 PR 12+300", ""], dtype=object), n),
        "description": rng.choice(np.array(["Radar fixe", "Lyon vers Paris", ""], dtype=object), n),
        "reports": np.where(types == T.MOBILE_CAMERA, 3, 0).astype(np.int32),
        "end_lat": end_lat, "end_lon": end_lon,
    })


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("speed, road, metres", [
    (50, "Rue de Rivoli", 300), (30, "", 300), (50, "D723", 300),
    (70, "D723", 2000), (80, "RN7", 2000), (90, "", 2000), (0, "", 2000), (0, "RD 12", 2000),
    (110, "RN7", 4000), (130, "", 4000), (70, "A7", 4000), (50, "A 86", 4000), (0, "D77, D64, A42", 4000),
    (0, "A6a", 4000), (50, "Avenue Foch", 300), (80, "RA7", 2000),
])
def test_zone_length_from_the_limit_and_the_road(speed, road, metres):
    got = france.zone_lengths(np.array([speed]), np.array([road], dtype=object))
    assert got.tolist() == [metres]


def test_roads_that_would_place_the_camera_are_dropped():
    roads = np.array(["RN7", "Avenue Foch, face au n°12", "RD 12 PR 12+300", "D77, D64B, A42", "Rue de Rivoli", ""],
                     dtype=object)
    assert france.plain_roads(roads).tolist() == ["RN7", "Avenue Foch", "", "D77, D64B, A42", "Rue de Rivoli", ""]


def test_zone_texts():
    assert [france.zone_text(m) for m in (300, 2000, 4000, 5300)] == [
        "Zone de danger (300 m)", "Zone de danger (2 km)", "Zone de danger (4 km)", "Zone de danger (5.3 km)"]


# --------------------------------------------------------------------------- the zones


def local_xy(lat0, lon0, lat, lon):
    """Metres east and north of (lat0, lon0), flat."""
    return (np.asarray(lon) - lon0) * M_PER_DEG * np.cos(np.radians(lat0)), (np.asarray(lat) - lat0) * M_PER_DEG


def test_every_french_camera_becomes_a_danger_zone_without_speed_or_mobile_kind():
    cams = french_cameras()
    zones = france.france_danger_zones(cams, KEY)
    assert set(zones["type"].tolist()) == {int(T.DANGER_ZONE)}
    assert not zones["speed"].any() and not zones["truck_speed"].any() and not zones["reports"].any()
    assert set(zones["kind"].tolist()) == {int(Kind.FIXED)}
    assert set(zones["description"].tolist()) <= {france.zone_text(m) for m in zones[france.ZONE_COLUMN].tolist()}
    assert all(re.fullmatch(r"Zone de danger \(\d+(\.\d)? k?m\)", d) for d in zones["description"].tolist())


def test_the_alert_distance_covers_every_zone_and_no_zone_point_is_its_camera():
    cams = french_cameras()
    zones = france.france_danger_zones(cams, KEY)
    report = france.zone_report(cams, zones)
    assert report["camera_covered"].all() and report["zone_covered"].all()
    assert (report["to_camera_m"] > 1.0).all()


def test_a_zone_with_a_heading_is_a_stretch_along_it_that_holds_the_camera_at_an_undisclosed_point():
    cams = french_cameras()
    zones = france.france_danger_zones(cams, KEY)
    one = (cams["dir_mode"] == D.ONE) & (cams["type"] != T.SECTION)
    assert one.sum() > 50
    fractions = []
    for i in np.flatnonzero(one):
        length = zones[france.ZONE_COLUMN][i]
        x, y = local_xy(zones["lat"][i], zones["lon"][i], [cams["lat"][i], zones["end_lat"][i]],
                        [cams["lon"][i], zones["end_lon"][i]])
        end = np.array([x[1], y[1]])
        assert np.hypot(*end) == pytest.approx(length, rel=2e-3)  # the stretch is the zone length
        h = np.radians(float(cams["heading"][i]))
        assert end / np.hypot(*end) == pytest.approx([np.sin(h), np.cos(h)], abs=1e-3)  # along the heading
        cam = np.array([x[0], y[0]])
        along = cam @ end / np.hypot(*end)
        assert abs(cam[0] * end[1] - cam[1] * end[0]) / np.hypot(*end) < 1.0  # on the stretch
        fractions.append(along / length)
    fractions = np.array(fractions)
    assert ((fractions > 0.099) & (fractions < 0.901)).all()
    # spread over the zone, not at a fixed place a reader could subtract
    assert fractions.std() > 0.15 and fractions.min() < 0.25 and fractions.max() > 0.75


def test_the_offset_needs_the_key_and_is_the_same_each_time():
    cams = french_cameras(60)
    a = france.france_danger_zones(cams, KEY)
    b = france.france_danger_zones(cams, KEY)
    c = france.france_danger_zones(cams, b"another key")
    assert a["lat"].tolist() == b["lat"].tolist() and a["lon"].tolist() == b["lon"].tolist()
    along = np.isfinite(a["end_lat"])
    assert not np.allclose(a["lon"][along], c["lon"][along], atol=1e-6, rtol=0)
    centred = ~along  # grid centres do not depend on the key
    assert a["lat"][centred].tolist() == c["lat"][centred].tolist()


def test_the_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FR_ZONE_KEY", "abc")
    assert france.zone_key() == b"abc"
    monkeypatch.delenv("FR_ZONE_KEY")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    derived = france.zone_key()
    assert derived not in (b"s3cret", france.DEVELOPMENT_KEY) and len(derived) == 32
    monkeypatch.delenv("SECRET_KEY")
    assert france.zone_key() == france.DEVELOPMENT_KEY


def test_a_zone_without_a_heading_is_a_grid_cell_centre_within_half_a_zone():
    cams = french_cameras()
    zones = france.france_danger_zones(cams, KEY)
    centred = ~np.isfinite(zones["end_lat"])
    assert centred.sum() > 50
    assert (cams["dir_mode"][centred] != D.ONE).all() or (cams["type"][centred] == T.SECTION).any()
    report = france.zone_report(cams, zones)
    assert (report["to_camera_m"][centred] <= report["zone_m"][centred] / 2).all()
    # neighbours in one cell share the point: 40 cameras within 150 m, 80 km/h (2 km zones)
    rng = np.random.default_rng(1)
    near = CameraSet.from_records([dict(id=k + 1, lat=45.5 + rng.uniform(0, 0.0013), lon=4.8 + rng.uniform(0, 0.0018),
                                        speed=80, country="FR") for k in range(40)])
    z = france.france_danger_zones(near, KEY)
    assert len(set(zip(z["lat"].tolist(), z["lon"].tolist()))) <= 4


def test_a_section_with_its_end_is_one_zone_over_the_whole_section():
    cams = french_cameras()
    zones = france.france_danger_zones(cams, KEY)
    sections = np.flatnonzero((cams["type"] == T.SECTION) & np.isfinite(cams["end_lat"]))
    assert len(sections) > 5
    for i in sections:
        length = zones[france.ZONE_COLUMN][i]
        x, y = local_xy(zones["lat"][i], zones["lon"][i], [cams["lat"][i], cams["end_lat"][i], zones["end_lat"][i]],
                        [cams["lon"][i], cams["end_lon"][i], zones["end_lon"][i]])
        end = np.array([x[2], y[2]])
        unit = end / np.hypot(*end)
        for k in (0, 1):  # both section cameras lie on the zone, inside it
            p = np.array([x[k], y[k]])
            assert abs(p[0] * unit[1] - p[1] * unit[0]) < 15.0
            assert 0 < p @ unit < length
        assert length % france.ZONE_STEP_M == 0
    assert zones["dir_mode"][sections].tolist() == [int(D.ONE)] * len(sections)


def test_other_countries_are_untouched_and_the_option_is_what_turns_zones_on():
    cams = sample_cameras()
    plain, zones = select(cams, ExportOptions()), select(cams, ExportOptions(fr_danger_zones=True))
    fr = zones["country"] == "FR"
    for column in ("lat", "lon", "speed", "type", "road", "description"):
        assert zones[column][~fr].tolist() == plain[column][~fr].tolist()
    assert (plain["type"][plain["country"] == "FR"] != T.DANGER_ZONE).any()
    assert set(zones["type"][fr].tolist()) == {int(T.DANGER_ZONE)}


def test_proximity_for_gives_a_zone_at_least_its_length():
    zone = np.array([0, 300, 2000, 4000])
    speed = np.array([50, 0, 0, 0])
    assert ExportOptions().proximity_for(speed, zone_m=zone).tolist() == [300, 300, 2000, 4000]
    assert ExportOptions(proximity_m=1000).proximity_for(speed, zone_m=zone).tolist() == [1000, 1000, 2000, 4000]
    assert ExportOptions().proximity_for(speed).tolist() == [300, 500, 500, 500]


# --------------------------------------------------------------------------- every format

LEGAL = dict(fr_danger_zones=True, mobile=True)


def file_texts(files) -> list[str]:
    """The text of every text file of an export (a KMZ's documents too)."""
    out = []
    for f in files:
        data = f.read_bytes()
        if f.name.endswith(".kmz"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                out += [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".kml")]
        elif f.name.endswith((".csv", ".kml", ".gpx", ".geojson", ".txt", ".json")):
            out.append(data.decode("utf-8"))
    return out


def read_points(identifier: str, files) -> list[tuple[float, float, str, int]] | None:
    """(lat, lon, name, speed) of every point an independent reader finds, or None for the
    formats checked by their text."""
    points = []
    if identifier == "tomtom-ov2":
        for f in files:
            if f.name.endswith(".ov2"):
                points += [(p.lat, p.lon, p.name, 0) for p in read_ov2(f.read_bytes()).pois]
    elif identifier == "garmin-gpi":
        for f in files:
            points += [(p.lat, p.lon, p.name, p.speed_kmh or 0) for p in read_gpi(f.read_bytes()).pois]
    elif identifier in ("igo", "navitel"):
        (f,) = files
        points += [(r.lat, r.lon, "", r.speed) for r in read_speedcam(f.read_bytes(), navitel=identifier == "navitel")]
    elif identifier == "sygic":
        (f,) = [f for f in files if f.name.endswith(".dat")]
        points += [(c.lat, c.lon, "", c.speed or 0) for c in read_sygic(f.read_bytes()).cameras]
    else:
        return None
    return points


@pytest.mark.parametrize("identifier", sorted(load_plugins()))
def test_no_format_gives_a_french_camera_position_a_speed_or_a_speed_icon(identifier):
    cams = french_cameras(120)
    result = get_exporter(identifier).render(cams, ExportOptions(**LEGAL))
    # one category: the danger zones (danger sign icons), whatever the camera was
    categories = {f.category for f in result.files if f.category}
    assert all(c in ("danger", "all") or c.endswith("_Speedcams_Danger") for c in categories), (identifier, categories)
    lat, lon = cams["lat"], cams["lon"]
    points = read_points(identifier, result.files)
    if points is not None:
        assert len(points) >= len(cams)
        got = np.array([(p[0], p[1]) for p in points])
        for a, b in zip(lat.tolist(), lon.tolist()):
            dist = np.hypot((got[:, 0] - a) * M_PER_DEG, (got[:, 1] - b) * M_PER_DEG * np.cos(np.radians(a)))
            assert dist.min() > 1.0, (identifier, a, b)
        assert {p[3] for p in points} == {0}
        names = {p[2] for p in points if p[2]}
        assert all(n.startswith(("Danger zone", "Zone de danger")) for n in names), names
    texts = file_texts(result.files)
    if points is None:
        assert texts, identifier
    for text in texts:
        for a, b in zip(lat.tolist(), lon.tolist()):
            assert not (f"{a:.5f}" in text and f"{b:.5f}" in text), (identifier, a, b)
        assert not re.search(r"Speed \d|Speed [A-Z]|@\d|km/h|Radar fixe|face au", text), identifier
        if points is None:  # the formats with names or types in words
            assert "Danger zone" in text or "Zone de danger" in text or "danger-zone" in text, identifier


def zone_length_at(zones):
    """``length(lat, lon)``: the length of the zone whose point is within 1 m of (lat, lon)."""
    zlat, zlon, metres = zones["lat"], zones["lon"], zones[france.ZONE_COLUMN]

    def length(lat, lon):
        dist = np.hypot((zlat - lat) * M_PER_DEG, (zlon - lon) * M_PER_DEG * np.cos(np.radians(lat)))
        k = int(np.argmin(dist))
        assert dist[k] < 1.0, (lat, lon)
        return int(metres[k])

    return length


def test_gpi_alerts_cover_each_zone_as_our_reader_and_gpsbabel_read_them(tmp_path):
    cams = french_cameras(120)
    zones = france.france_danger_zones(cams, france.zone_key())
    length = zone_length_at(zones)
    for options in (ExportOptions(**LEGAL), ExportOptions(proximity_m=300, **LEGAL)):
        files = get_exporter("garmin-gpi").render(cams, options).files
        pois = [p for f in files for p in read_gpi(f.read_bytes()).pois]
        assert len(pois) == len(cams)
        assert all(p.proximity_m == max(length(p.lat, p.lon), options.proximity_m or 0) for p in pois)
        assert all(p.speed_kmh is None for p in pois)
    rows = gpsbabel_read_files("garmin_gpi", files, tmp_path)
    assert sorted(int(float(r["Proximity"])) for r in rows) == sorted(np.maximum(zones[france.ZONE_COLUMN], 300).tolist())


def test_gpx_proximity_is_each_zone_length_as_gpsbabel_reads_it(tmp_path):
    cams = french_cameras(120)
    zones = france.france_danger_zones(cams, france.zone_key())
    files = get_exporter("gpx").render(cams, ExportOptions(**LEGAL)).files
    rows = gpsbabel_read_files("gpx", files, tmp_path)
    assert len(rows) == len(cams)
    length = zone_length_at(zones)
    for r in rows:
        assert int(float(r["Proximity"])) == length(float(r["Latitude"]), float(r["Longitude"]))
        assert "@" not in r["Name"] and r["Name"].startswith("Danger zone")


def test_the_notes_state_the_law_and_the_poi_loader_distance():
    from exporters.devices import DEVICES

    device = next(d for d in DEVICES if d.format == "garmin-poi-csv" and not getattr(d, "withdrawn", False))
    notes = package_notes(device, ExportOptions(fr_danger_zones=True), [])
    text = " ".join(notes)
    assert "décret n° 2012-3" in text and "R413-15" in text
    assert "300 m in built-up areas, 2 km on other roads, 4 km on motorways" in text
    poi = " ".join(get_exporter("garmin-poi-csv").render(french_cameras(10), ExportOptions(**LEGAL)).notes)
    assert "4,000 m" in poi
    plain = " ".join(get_exporter("garmin-poi-csv").render(french_cameras(10), ExportOptions(mobile=True)).notes)
    assert "4,000 m" not in plain
