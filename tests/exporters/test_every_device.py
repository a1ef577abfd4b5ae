"""``manage.py export`` for every catalog device, each package read back by the independent
check of its format.

The sample
    ``SAMPLE``: 25 cameras written as the project's CSV feed, imported and published as a
    release: France (speed, red light, a section as start and end rows, route enforcement, a
    danger zone, a mobile camera), Great Britain and the United States with limits given in
    mph ("30 mph", stored as 48 km/h), Germany (a section without an end point, a mobile zone
    with one), Russia with Cyrillic roads and descriptions, and one Italian camera outside
    the coverage (only Sygic, whose coverage is the whole world, gets it).

What each device's package must pass
    ``export --device <id> --coverage FR,GB,DE,US,RU`` (``--mobile`` where the device shows
    mobile cameras), default options (speed unit auto, exact positions in France), then:

    - the package: every zip entry is a manifest file, INSTALL.txt or manifest.json; each
      file's bytes and sha256 are the manifest's; the counts are the sample's (total, by
      country); INSTALL.txt holds the device's steps and lists every file with its count;
      icon files are BMPs of the device's icon size and colour depth;
    - the files: the check of the device's format from test_realdata_roundtrip (``CHECKS``),
      which reads every POI file with GPSBabel where GPSBabel reads the format and with the
      independent readers of tests/exporters/readers (OV2 skipper tree, GPI records, iGO and
      Navitel rows, Sygic's SQLite, the Daimler GPX checker) and the project's feed readers
      for its own CSV and GeoJSON: every camera at its position, in its file or group, with
      what the format carries (speed in its unit, type codes, headings, proximity); each file
      holds exactly the POIs the manifest declares for it;
    - per format: GPI names read back by GPSBabel as our reader reads them (UTF-8 files with
      the Cyrillic names; Windows-1252 with transliterated ones for a device that needs it),
      mph where the sample's limits are in mph.

A failure names the device (the test id). The whole module takes a few seconds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import struct
import zipfile
from collections import Counter

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from cameras.exporting import release_cameras
from cameras.importing import import_file
from cameras.releases import publish_release
from exporters.base import CameraSet, OutputFile
from exporters.devices import CATALOG, DEVICES
from exporters.schema import Kind

from tests.exporters import interchange
from tests.exporters.readers.gpi_reader import read_gpi
from tests.exporters.test_realdata_roundtrip import CHECKS, TWO_ROW_SECTIONS, Case, with_column

pytestmark = pytest.mark.django_db

COVERAGE = ("FR", "GB", "DE", "US", "RU")

# country, then the CSV feed's columns (docs/feed-csv.md); positions well inside each country
SAMPLE = [
    ("FR", dict(ref="fr-50", type="speed", lat=48.8566, lon=2.3522, speed="50", heading="90", road="Rue de Rivoli",
                description="Paris centre")),
    ("FR", dict(ref="fr-130", type="speed", lat=47.7500, lon=3.5800, speed="130", heading="340", road="A6",
                description="Autoroute du Soleil")),
    ("FR", dict(ref="fr-red", type="red-light", lat=45.7640, lon=4.8357, description="Feu rouge Perrache")),
    ("FR", dict(ref="fr-sec-a", type="section-start", lat=43.7000, lon=4.6000, speed="110", heading="70",
                road="A54", description="Tronçon début")),
    ("FR", dict(ref="fr-sec-b", type="section-end", lat=43.7200, lon=4.7000, speed="110", heading="70",
                road="A54", description="Tronçon fin")),
    ("FR", dict(ref="fr-route", type="route-enforcement", lat=43.6047, lon=1.4442, speed="80", road="D820",
                description="Itinéraire")),
    ("FR", dict(ref="fr-danger", type="danger-zone", lat=43.2965, lon=5.3698, road="A55",
                description="Zone de danger")),
    ("FR", dict(ref="fr-mob", kind="mobile", type="mobile-camera", lat=44.8378, lon=-0.5792, speed="90",
                road="N230", description="Radar mobile")),
    ("GB", dict(ref="gb-30", type="speed", lat=51.5072, lon=-0.1276, speed="30 mph", heading="180", road="A40",
                description="Westway")),
    ("GB", dict(ref="gb-70", type="speed", lat=52.8000, lon=-2.1200, speed="70 mph", heading="350", road="M6",
                description="Stafford")),
    ("GB", dict(ref="gb-red", type="red-light-speed", lat=53.4808, lon=-2.2426, speed="40 mph",
                description="Manchester")),
    ("GB", dict(ref="gb-sec", type="section", lat=53.8000, lon=-1.5500, end_lat=53.8300, end_lon=-1.5000,
                speed="50 mph", heading="45", road="A64", description="Average speed")),
    ("GB", dict(ref="gb-mob", kind="mobile", type="mobile-camera", lat=52.4862, lon=-1.8904, speed="30 mph",
                road="A38", description="Mobile van")),
    ("DE", dict(ref="de-50", type="speed", lat=52.5200, lon=13.4050, speed="50", heading="270", direction="both",
                road="Unter den Linden", description="Blitzer Mitte")),
    ("DE", dict(ref="de-100", type="speed", lat=49.4521, lon=11.0767, speed="100", road="A73",
                description="Nürnberg")),
    ("DE", dict(ref="de-rls", type="red-light-speed", lat=48.1351, lon=11.5820, speed="60", heading="15",
                road="Leopoldstraße", description="München Ampel")),
    ("DE", dict(ref="de-lone", type="section", lat=50.9375, lon=6.9603, speed="80", heading="120", road="A3",
                description="Abschnitt ohne Ende")),
    ("DE", dict(ref="de-zone", kind="mobile", type="mobile-zone", lat=50.1109, lon=8.6821, end_lat=50.1209,
                end_lon=8.7021, road="B43", description="Kontrollbereich", reports="4")),
    ("US", dict(ref="us-30", type="speed", lat=40.7128, lon=-74.0060, speed="30 mph", road="Broadway",
                description="Manhattan")),
    ("US", dict(ref="us-55", type="speed", lat=34.0522, lon=-118.2437, speed="55 mph", heading="90", road="I-10",
                description="Los Angeles")),
    ("US", dict(ref="us-red", type="red-light", lat=41.8781, lon=-87.6298, road="Michigan Ave",
                description="Chicago")),
    ("RU", dict(ref="ru-60", type="speed", lat=55.7558, lon=37.6173, speed="60", heading="10", road="Тверская",
                description="Камера контроля скорости")),
    ("RU", dict(ref="ru-red", type="red-light", lat=59.9343, lon=30.3351, road="Невский проспект",
                description="Камера на светофоре")),
    ("RU", dict(ref="ru-mob", kind="mobile", type="mobile-camera", lat=55.0084, lon=82.9357, speed="60",
                road="Красный проспект", description="Передвижной пост")),
    ("IT", dict(ref="it-50", type="speed", lat=41.9028, lon=12.4964, speed="50", road="Via del Corso",
                description="Roma, outside the coverage")),
]
COLUMNS = ["ref", "kind", "type", "lat", "lon", "speed", "heading", "direction", "road", "description", "end_lat",
           "end_lon", "reports"]
CYRILLIC = re.compile("[\u0400-\u04ff]")


@pytest.fixture
def sample_release(tmp_path):
    path = tmp_path / "sample.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        writer.writerows(row for _, row in SAMPLE)
    import_file(path, source="sample", fmt="csv")
    return publish_release()


def sample_countries(device, mobile: bool) -> Counter:
    """The cameras per country the device's package must hold, from the sample table."""
    return Counter(country for country, row in SAMPLE
                   if (country in COVERAGE or not device.coverage_setup) and (mobile or row.get("kind") != "mobile"))


def expected_cameras(release, device, mobile: bool) -> CameraSet:
    """The release's cameras the package must hold: the coverage's countries (every country
    for a device that takes its default world coverage), mobile ones only with ``mobile``."""
    cams = release_cameras(release)
    keep = np.ones(len(cams), dtype=bool)
    if device.coverage_setup:
        keep &= np.isin(cams["country"].astype(str), COVERAGE)
    if not mobile:
        keep &= cams["kind"] != Kind.MOBILE
    return cams.take(keep)


def export(device, tmp_path) -> zipfile.ZipFile:
    out = tmp_path / f"{device.id}.zip"
    args = ["--device", device.id, "--coverage", ",".join(COVERAGE), "-o", str(out)]
    call_command("export", *args, *(["--mobile"] if device.mobile else []), verbosity=0, stdout=io.StringIO(),
                 stderr=io.StringIO())
    return zipfile.ZipFile(out)


def bmp_bits(data: bytes) -> int:
    """Bits per pixel from the BITMAPINFOHEADER (offset 28), read without Pillow."""
    assert data[:2] == b"BM"
    return struct.unpack_from("<H", data, 28)[0]


def check_package(device, zf: zipfile.ZipFile, cams: CameraSet, mobile: bool) -> dict:
    """The package-level checks; the manifest."""
    manifest = json.loads(zf.read("manifest.json"))
    listed = {f["name"]: f for f in manifest["files"]}
    assert sorted(zf.namelist()) == sorted([*listed, "INSTALL.txt", "manifest.json"])
    assert zf.testzip() is None
    for name, f in listed.items():
        data = zf.read(name)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f["bytes"], f["sha256"]), name
    assert manifest["device"] == {"id": device.id, "name": device.name, "format": device.format}
    assert manifest["options"]["mobile"] is mobile and manifest["options"]["speed_unit"] == "auto"
    assert manifest["counts"]["total"] == len(cams)
    assert manifest["counts"]["by_country"] == dict(sorted(sample_countries(device, mobile).items()))
    assert manifest["skipped"] == {} and manifest["warnings"] == []

    guide = zf.read("INSTALL.txt").decode("utf-8")
    for step in device.install:
        assert step in guide
    for f in manifest["files"]:
        cameras = "camera" if f["count"] == 1 else "cameras"  # ngettext: "1 camera"
        line = f"- {f['name']}: {f['count']:,} {cameras}" if f["count"] else f"- {f['name']}"
        assert line in guide.splitlines(), line
    for note in manifest["notes"]:
        assert f"- {note}" in guide

    icons = [name for name in listed if name.lower().endswith(".bmp")]
    spec = device.icons
    if icons and spec is None:  # the format's icons, which this device does not take: the guide must say so
        assert ".bmp icons next to them are for the older models" in guide, f"{device.id}: {icons[:3]}"
        spec = next(d.icons for d in DEVICES if d.format == device.format and d.icons)
    for name in icons:
        data = zf.read(name)
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "BMP" and img.size == (spec.width, spec.height), name
        assert bmp_bits(data) <= spec.bits, f"{name}: {bmp_bits(data)} bits for a {spec.bits}-bit device"
    return manifest


def check_gpi_texts(device, files) -> None:
    """GPI: GPSBabel reads every name as our reader does; Cyrillic names stay Cyrillic in a
    UTF-8 file, or are transliterated into a Windows-1252 file for a device that needs it."""
    names = []
    for f, path in files:
        parsed = read_gpi(f.data)
        ours = sorted(p.name for p in parsed.pois)
        babel = sorted(r["Name"] for r in interchange.gpsbabel_unicsv("garmin_gpi", path))
        assert babel == ours, f.name
        cyrillic = any(CYRILLIC.search(n) for n in ours)
        assert parsed.code_page == (65001 if cyrillic else 1252), f.name
        names += ours
    if device.transliterate:
        assert not any(CYRILLIC.search(n) or "?" in n for n in names), names
        assert "Speed 60 Tverskaya" in names
    else:
        assert "Speed 60 Тверская" in names


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.id)
def test_export_gives_a_package_its_independent_check_accepts(device, sample_release, tmp_path):
    zf = export(device, tmp_path)
    cams = expected_cameras(sample_release, device, device.mobile)
    manifest = check_package(device, zf, cams, device.mobile)

    exporter = device.exporter()
    poi_names = [f["name"] for f in manifest["files"] if f["name"].endswith(exporter.file_extension)]
    assert poi_names, f"no {exporter.file_extension} file"
    assert all(f["count"] == 0 for f in manifest["files"] if f["name"] not in poi_names)
    files = []
    for name in poi_names:
        f = OutputFile(name, data=zf.read(name), count=next(m["count"] for m in manifest["files"]
                                                              if m["name"] == name))
        files.append((f, interchange.written(tmp_path / "files", f)))
    case = Case(device.id, cams, files)
    extra = len(case.rows()[0]) - len(cams) if device.format in TWO_ROW_SECTIONS else 0
    assert manifest["counts"]["pois"] == sum(f.count for f, _ in files) == len(cams) + extra
    if device.transliterate:  # the check's names are the sample's; this device gets them transliterated
        from exporters.bulk import transliterate

        for column in ("road", "description"):
            texts = np.array([transliterate(t)[0] for t in cams[column].tolist()], dtype=object)
            case = Case(device.id, with_column(case.cams, column, texts), files)
    CHECKS[device.format](case)
    if device.format == "garmin-gpi":
        check_gpi_texts(device, files)


def test_the_sample_lands_in_its_countries_with_mph_limits_stored_in_kmh(sample_release):
    cams = release_cameras(sample_release)
    assert len(cams) == len(SAMPLE)
    for country, row in SAMPLE:
        at = (np.abs(cams["lat"] - row["lat"]) < 1e-6) & (np.abs(cams["lon"] - row["lon"]) < 1e-6)
        (i,) = np.flatnonzero(at)
        assert cams["country"][i] == country, row["ref"]
        if row.get("speed", "").endswith("mph"):
            assert cams["speed"][i] == round(int(row["speed"].split()[0]) * 1.609344), row["ref"]


def test_every_device_is_exported_and_every_format_has_a_check():
    assert {d.format for d in DEVICES} <= set(CHECKS)


# ---------------------------------------------------------------------------------------
# Sources


@pytest.mark.parametrize("device", list(CATALOG.values()), ids=lambda d: d.id)
def test_every_device_names_its_sources_for_the_format_and_the_limits(device):
    assert device.format_sources and device.limit_sources
    for source in device.sources:
        assert source.about in ("format", "limits") and len(source.title) > 10
        assert not source.url or re.fullmatch(r"https?://[^\s]+", source.url)


def test_the_catalog_check_refuses_a_device_without_a_source_for_its_format_or_limits(monkeypatch):
    from dataclasses import replace

    from exporters import devices

    assert devices.validate_catalog() == []
    tomtom = devices.DEVICES[0]
    broken = (replace(tomtom, id="no-sources", sources=()),
              replace(tomtom, id="format-only", sources=tomtom.format_sources),
              replace(tomtom, id="bad-topic", sources=tomtom.sources + (devices.Source("price", "a price list"),)))
    monkeypatch.setattr(devices, "DEVICES", devices.DEVICES + broken)
    problems = devices.validate_catalog()
    assert problems == ["no-sources: no source for its format", "no-sources: no source for its limits",
                        "format-only: no source for its limits",
                        "bad-topic: a source about 'price' (valid: format, limits)"]


def test_the_readme_lists_every_catalog_device_with_its_format():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    device_rows = [r for r in rows if len(r.split("|")) == 8]  # the device table's six columns
    for device in CATALOG.values():
        row = next((r for r in device_rows if f"`{device.id}`" in r.split("|")[1]), None)
        assert row, f"README has no device row for {device.id}"
        assert (f"`{device.format}`" in row) != bool(device.withdrawn), row
        if device.withdrawn:
            assert "withdrawn" in row and "signature" in row
    gpi = next(r for r in rows if r.startswith("| `garmin-gpi`"))
    assert "scaled by the limit" in gpi and "speed + proximity" not in readme
