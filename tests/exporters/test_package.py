"""Packages: deterministic zips with the files, the installation guide and a manifest."""

import hashlib
import io
import json
import zipfile

import pytest

from exporters.base import ExportError, ExportOptions
from exporters.devices import get_device
from exporters.package import build_package, cache_key

from tests.exporters.fixtures import sample_cameras

RELEASE = {"number": 3, "date": "2026-11-01", "sha256": "ab" * 32}


def build(device_id="tomtom-go-classic", **options):
    return build_package(sample_cameras(), get_device(device_id), ExportOptions(**options), release=RELEASE,
                         coverage=["europe", "AU"])


def test_the_same_inputs_give_byte_identical_packages():
    assert build().data == build().data
    assert build().sha256 != build(mobile=True).sha256


def test_the_package_holds_the_files_guide_and_a_manifest_with_checksums():
    pkg = build(mobile=True)
    zf = zipfile.ZipFile(io.BytesIO(pkg.data))
    names = zf.namelist()
    assert names == sorted(names)
    assert "INSTALL.txt" in names and "manifest.json" in names
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["release"] == RELEASE
    assert manifest["device"]["id"] == "tomtom-go-classic"
    assert manifest["counts"]["total"] == 24
    assert manifest["counts"]["by_country"]["FR"] == 6
    assert manifest["counts"]["by_type"]["speed"] == 9
    for f in manifest["files"]:
        assert hashlib.sha256(zf.read(f["name"])).hexdigest() == f["sha256"]
    guide = zf.read("INSTALL.txt").decode()
    assert "Copy every .ov2 file" in guide and "not direction-aware" in guide
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in zf.infolist())


def test_mobile_cameras_are_refused_for_a_device_that_cannot_show_them():
    with pytest.raises(ExportError, match="cannot show mobile cameras"):
        build("mercedes-comand", mobile=True)


def test_the_france_icon_set_is_refused_where_the_device_cannot_swap_icons():
    with pytest.raises(ExportError, match="cannot swap icons"):
        build("igo-primo", icons="fr-danger")


def test_a_package_over_the_device_limit_carries_a_clear_warning():
    from dataclasses import replace

    from exporters.devices import Limit

    tiny = replace(get_device("mercedes-comand"), max_pois=Limit(10, "test limit"))
    pkg = build_package(sample_cameras(), tiny, ExportOptions(), release=RELEASE, coverage=["world"])
    assert any("exceed the device limit of 10 POIs" in w for w in pkg.manifest["warnings"])
    guide = zipfile.ZipFile(io.BytesIO(pkg.data)).read("INSTALL.txt").decode()
    assert "WARNINGS" in guide


def test_the_cache_key_depends_on_what_goes_in_not_on_order():
    dev = get_device("garmin-nuvi")
    a = cache_key("r1", dev, ["FR", "BE"], ExportOptions())
    assert a == cache_key("r1", dev, ["BE", "FR"], ExportOptions())
    assert a != cache_key("r2", dev, ["FR", "BE"], ExportOptions())
    assert a != cache_key("r1", dev, ["FR", "BE"], ExportOptions(mobile=True))
    assert a != cache_key("r1", dev, ["FR", "BE"], ExportOptions(proximity_m=500))


def guide_of(pkg) -> str:
    return zipfile.ZipFile(io.BytesIO(pkg.data)).read("INSTALL.txt").decode()


@pytest.mark.parametrize("device_id", ["garmin-nuvi", "garmin-drivesmart", "garmin-zumo"])
def test_a_gpi_guide_says_every_camera_alerts_at_any_speed_at_the_distance_of_its_limit(device_id):
    pkg = build(device_id, mobile=True)
    guide = guide_of(pkg)
    assert ("proximity alert at a distance set by its speed limit: 300 m up to 50 km/h, 500 m up to 90 km/h, "
            "800 m up to 110 km/h, 1,000 m above 110 km/h" in guide)
    assert "500 m when the limit is unknown" in guide and "sounds at any speed" in guide
    assert "as in the file" not in guide and "alert speed" in guide
    assert pkg.manifest["options"]["proximity_m"] is None
    assert "proximity alert at 650 m." in guide_of(build(device_id, proximity_m=650))


def test_the_poi_loader_guide_gives_the_manual_mode_units_and_distance_the_csv_cannot_carry():
    guide = guide_of(build("garmin-poi-loader", mobile=True))
    assert "as in the file" not in guide
    assert "Choose 'Manual' mode, not 'Express'" in guide and "kilometres per hour" in guide
    assert "set proximity alerts to 500 m, or the cameras without a known limit (no '@' suffix) stay silent" in guide
    assert "set proximity alerts to 650 m" in guide_of(build("garmin-poi-loader", proximity_m=650))
    assert "can use the GPI package instead" in guide


@pytest.mark.parametrize("spooled", [False, True])
def test_every_entry_is_deflated_at_the_package_level_in_blocks_that_zlib_reads(spooled, tmp_path):
    """Sygic's 9 MB database (several 1 MiB blocks) and the small files: each entry's
    compressed bytes are the blocks ``ZipWriter`` makes of its data, and zlib itself inflates them."""
    import zlib

    from exporters import zipfiles
    from tests.exporters.fixtures import scaled_cameras
    from tests.exporters.test_zipfiles import deflate

    options = ExportOptions(mobile=True, spool_dir=str(tmp_path) if spooled else None)
    pkg = build_package(scaled_cameras(60_000), get_device("sygic-android"), options, release=RELEASE,
                        coverage=["world"])
    with zipfile.ZipFile(io.BytesIO(pkg.data)) as zf:
        assert zf.testzip() is None
        entries = {info.filename: (zf.read(info), raw_data(pkg.data, info)) for info in zf.infolist()}
        assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    database = next(data for name, (data, _) in entries.items() if name.endswith(".dat"))
    assert len(database) > 2 * zipfiles.BLOCK
    for name, (data, raw) in entries.items():
        assert raw == deflate(data), name
        assert zlib.decompress(raw, -15) == data, name
        assert len(raw) < len(data), name


def raw_data(archive: bytes, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of an entry, from its local header (APPNOTE.TXT 4.3.7)."""
    import struct

    offset = info.header_offset
    name_len, extra_len = struct.unpack_from("<HH", archive, offset + 26)
    start = offset + 30 + name_len + extra_len
    return archive[start:start + info.compress_size]
