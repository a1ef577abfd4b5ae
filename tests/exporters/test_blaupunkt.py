"""Blaupunkt TravelPilot POI lists: file names by the manual's rule (country code, category
1, category 2), a 22 x 22 8-bit BMP per list (read back by Pillow and from the BMP header),
the KML read back by an XML parser and by GPSBabel, and the package with its steps."""

import io
import json
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter

import pytest
from PIL import Image

from exporters import sizing
from exporters.base import CameraSet, ExportOptions, get_exporter
from exporters.devices import get_device
from exporters.icons import draw_icon
from exporters.package import build_package
from exporters.schema import CameraType as T
from exporters.schema import Kind

from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras
from tests.exporters import interchange
from tests.exporters.interchange import assert_same_bytes_in_any_order, check_golden_files, gpsbabel_read_file
from tests.exporters.fixtures import scaled_cameras

KML = "{http://www.opengis.net/kml/2.2}"
# <country code>_<category 1>_<category 2>: the parts separated by "_", none holding "_" or a space
LIST_NAME = re.compile(r"^(?P<cc>[A-Z]{2})_(?P<cat1>[A-Za-z0-9]+)_(?P<cat2>[A-Za-z0-9]+)$")
SUB = {"Fixed": (T.SPEED, T.VARIABLE_LIMIT, T.TUNNEL, T.DISTANCE), "RedLight": (T.RED_LIGHT, T.RED_LIGHT_SPEED),
       "Section": (T.SECTION_START, T.SECTION_END, T.SECTION), "Other": (T.LEVEL_CROSSING, T.BUS_LANE, T.OTHER),
       "Danger": (T.DANGER_ZONE,), "Route": (T.ROUTE_ENFORCEMENT,)}


def export(cameras=None, **options):
    return get_exporter("blaupunkt-kml").render(sample_cameras() if cameras is None else cameras,
                                               ExportOptions(**options))


def kml_files(result):
    return [f for f in result.files if f.name.endswith(".kml")]


def placemarks(data: bytes) -> tuple[str, list[tuple[str, float, float]]]:
    """(document name, [(name, lon, lat)]) read with ElementTree."""
    root = ET.fromstring(data)
    assert root.tag == f"{KML}kml"
    doc = root.find(f"{KML}Document")
    out = []
    for pm in doc.findall(f"{KML}Placemark"):
        lon, lat = pm.find(f"{KML}Point/{KML}coordinates").text.split(",")
        out.append((pm.find(f"{KML}name").text, float(lon), float(lat)))
    return doc.find(f"{KML}name").text, out


def bmp_bits(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bits per pixel, compression) from the BITMAPINFOHEADER."""
    assert data[:2] == b"BM"
    width, height, _, bits, compression = struct.unpack_from("<iiHHI", data, 18)
    return width, height, bits, compression


def test_every_list_name_follows_the_manuals_rule_and_has_its_icon():
    result = export(mobile=True)
    names = [f.name for f in result.files]
    stems = [n.rsplit(".", 1)[0] for n in names]
    assert names == sorted(names, key=lambda n: (n.rsplit(".", 1)[0], n.endswith(".bmp")))
    for f in kml_files(result):
        stem = f.name[:-4]
        m = LIST_NAME.match(stem)
        assert m and m["cat1"] == "Speedcams", f.name
        assert f"{stem}.bmp" in names
    assert Counter(stems) == {s: 2 for s in set(stems)}  # a .kml and a .bmp per list, nothing else


def test_each_list_holds_the_cameras_of_its_country_category_and_speed():
    result = export(mobile=True)
    rows = {r["id"]: r for r in SAMPLE_ROWS}
    seen = []
    for f in kml_files(result):
        m = LIST_NAME.match(f.name[:-4])
        doc_name, marks = placemarks(f.data)
        assert doc_name == f.name[:-4] and len(marks) == f.count
        sub = re.match(r"([A-Za-z]+?)(\d*)(mph)?$", m["cat2"])
        for name, lon, lat in marks:
            row = next(r for r in rows.values() if abs(r["lon"] - lon) < 1e-6 and abs(r["lat"] - lat) < 1e-6)
            seen.append(row["id"])
            assert (row.get("country") or "XX") == m["cc"]
            if row.get("kind") == Kind.MOBILE:
                assert sub[1] == "Mobile"
            else:
                assert row["type"] in SUB[sub[1]]
                if sub[1] in ("Fixed", "RedLight", "Section"):  # the speed in its unit: GB, US in mph
                    assert f"{sub[2]}{' mph' if sub[3] else ''}" == interchange.shown_speed(row)
    assert sorted(seen) == sorted(r["id"] for r in SAMPLE_ROWS)  # every camera once


def test_gpsbabel_reads_every_list_with_its_positions(tmp_path):
    result = export(mobile=True)
    for f in kml_files(result):
        babel = gpsbabel_read_file("kml", f, tmp_path)
        _, marks = placemarks(f.data)
        assert [(w["Name"], round(float(w["Longitude"]), 6), round(float(w["Latitude"]), 6)) for w in babel] == [
            (n, round(lon, 6), round(lat, 6)) for n, lon, lat in marks]


def test_icons_are_22_by_22_pixel_8_bit_palette_bmps():
    result = export(mobile=True)
    for f in result.files:
        if not f.name.endswith(".bmp"):
            continue
        img = Image.open(io.BytesIO(f.data))
        assert (img.format, img.size, img.mode) == ("BMP", (22, 22), "P"), f.name
        assert len(img.getpalette()) == 256 * 3
        assert bmp_bits(f.data) == (22, 22, 8, 0)


def test_a_speed_list_has_the_speed_sign_and_france_can_have_the_danger_sign():
    speed = {f.name: f.data for f in export().files}
    danger = {f.name: f.data for f in export(icons="fr-danger").files}
    sign = Image.open(io.BytesIO(speed["FR_Speedcams_Fixed50.bmp"])).convert("RGB")
    drawn = draw_icon("fixed", 50, 22).convert("RGB")
    opaque = [xy for xy in ((x, y) for x in range(22) for y in range(22)) if draw_icon("fixed", 50, 22).getpixel(xy)[3]]
    assert all(sign.getpixel(xy) == drawn.getpixel(xy) for xy in opaque)
    assert danger["FR_Speedcams_Fixed50.bmp"] != speed["FR_Speedcams_Fixed50.bmp"]
    assert {n: d for n, d in danger.items() if not n.startswith("FR_")} == {
        n: d for n, d in speed.items() if not n.startswith("FR_")}
    notes = export(icons="fr-danger").notes
    assert any("France lists use the danger sign" in n for n in notes)


def test_a_camera_without_a_country_goes_to_the_xx_lists():
    cams = CameraSet.from_records([dict(id=1, type=T.SPEED, lat=10.0, lon=10.0, speed=80, country=""),
                                   dict(id=2, type=T.RED_LIGHT, lat=11.0, lon=10.0, country="fr")])
    assert [f.name for f in export(cams).files] == ["FR_Speedcams_RedLight.kml", "FR_Speedcams_RedLight.bmp",
                                                    "XX_Speedcams_Fixed80.kml", "XX_Speedcams_Fixed80.bmp"]


def test_the_size_model_gives_the_rendered_sizes():
    cams = sample_cameras()
    for options in (ExportOptions(), ExportOptions(mobile=True, icons="fr-danger", fr_danger_zones=True)):
        model = get_exporter("blaupunkt-kml").size_model(cams, options)
        assert model.sizes() == sizing.SizedExport.of(get_exporter("blaupunkt-kml").render(cams, options))


def test_two_renders_and_any_input_order_give_byte_identical_files():
    assert_same_bytes_in_any_order("blaupunkt-kml", scaled_cameras(2_000), seed=3)


def test_the_sample_export_matches_the_golden_files():
    check_golden_files("blaupunkt-kml", export(mobile=True).files, (".kml", ".bmp"))


def test_the_travelpilot_package_holds_the_lists_and_true_steps():
    device = get_device("blaupunkt-travelpilot")
    assert (device.format, device.icons.width, device.icons.height, device.icons.bits) == ("blaupunkt-kml", 22, 22, 8)
    pkg = build_package(sample_cameras(), device, ExportOptions(mobile=True),
                        release={"number": 1, "date": "2026-12-01", "sha256": "00" * 32}, coverage=["europe"])
    zf = zipfile.ZipFile(io.BytesIO(pkg.data))
    lists = [n for n in zf.namelist() if n.endswith(".kml")]
    assert lists and all(n[:-4] + ".bmp" in zf.namelist() for n in lists)
    guide = zf.read("INSTALL.txt").decode()
    assert "TPAssist" in guide and "<country>_Speedcams_<category>" in guide and "22 x 22" in guide
    assert "phone" not in guide.lower()  # the PND's steps, not an app's
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["device"]["format"] == "blaupunkt-kml"
    assert sum(f["count"] for f in manifest["files"]) == manifest["counts"]["total"]
