"""Spooled exports (``ExportOptions.spool_dir``): the same bytes as in memory, files on disk only
in the spool directory, packages streamed into the zip byte for byte as before."""

import hashlib
import io
import json
import os
import tempfile
import zipfile

import numpy as np
import pytest

from exporters import common
from exporters.base import CameraSet, ExportError, ExportOptions, OutputFile, SpoolFile, load_plugins, output_file
from exporters.devices import DEVICES, Device, get_device
from exporters.package import build_package, cache_key

from tests.exporters.fixtures import sample_cameras, scaled_cameras

PLUGINS = sorted(load_plugins())
SPOOLED = ("gpx", "kml", "csv", "geojson", "garmin-poi-csv")  # the plugins that write their big files to disk
RELEASE = {"number": 7, "date": "2026-12-01", "sha256": "cd" * 32}


@pytest.fixture(scope="module")
def many():
    """Enough cameras that the big files are several MB: more than one copy chunk (1 MiB)
    is compressed, hashed and copied, and the text writers write many chunks."""
    return scaled_cameras(30_000)


def device_for(identifier):
    """A catalog device of the format, or a stand-in for a format no catalog device uses
    (the plain kml plugin, kept for devices that take only a .kml)."""
    return next((d for d in DEVICES if d.format == identifier and d.mobile),
                Device(f"test-{identifier}", "Test", identifier, identifier, "app", install=("Unzip.",)))


def spool_listing(path):
    return sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names)


@pytest.mark.parametrize("identifier", PLUGINS)
def test_a_spooled_render_gives_the_same_files_as_in_memory(identifier, tmp_path):
    plugin = load_plugins()[identifier]()
    cams = sample_cameras()
    options = ExportOptions(mobile=True, icons="fr-danger", fr_danger_zones=True)
    memory = plugin.render(cams, options)
    spooled = plugin.render(cams, options.with_(spool_dir=str(tmp_path)))
    assert [(f.name, f.category, f.count) for f in spooled.files] == [(f.name, f.category, f.count) for f in memory.files]
    assert [f.read_bytes() for f in spooled.files] == [f.data for f in memory.files]
    assert [f.size for f in spooled.files] == [len(f.data) for f in memory.files]
    assert [f.sha256 for f in spooled.files] == [hashlib.sha256(f.data).hexdigest() for f in memory.files]
    assert (spooled.notes, spooled.skipped) == (memory.notes, memory.skipped)
    assert all(f.path is None and f.data is not None for f in memory.files)  # the default stays in memory
    on_disk = [f for f in spooled.files if f.path is not None]
    if identifier in SPOOLED:
        assert on_disk and all(f.count for f in on_disk)  # every camera file, not the icons
        assert all(f.path is not None for f in spooled.files if f.count)
    assert spool_listing(tmp_path) == sorted(f.path for f in on_disk)


@pytest.mark.parametrize("identifier", SPOOLED)
def test_a_large_spooled_file_is_written_in_chunks_with_the_same_bytes(identifier, many, tmp_path):
    plugin = load_plugins()[identifier]()
    memory = plugin.render(many, ExportOptions(mobile=True))
    spooled = plugin.render(many, ExportOptions(mobile=True, spool_dir=str(tmp_path)))
    assert max(len(f.data) for f in memory.files) > 256 << 10  # many write chunks
    for mem, disk in zip(memory.files, spooled.files, strict=True):
        assert disk.name == mem.name
        with disk.open() as fh:
            assert fh.read() == mem.data
        assert disk.sha256 == hashlib.sha256(mem.data).hexdigest()


@pytest.mark.parametrize("identifier", ["gpx", "kml", "csv", "geojson", "garmin-poi-csv", "tomtom-ov2"])
def test_the_package_of_a_spooled_export_is_byte_identical(identifier, many, tmp_path):
    device = device_for(identifier)
    options = ExportOptions(mobile=True)
    memory = build_package(many, device, options, release=RELEASE, coverage=["world"])
    spooled = build_package(many, device, options.with_(spool_dir=str(tmp_path)), release=RELEASE,
                            coverage=["world"])
    assert spooled.data == memory.data
    assert spooled.manifest == memory.manifest
    assert spooled.filename == memory.filename


def test_the_manifest_of_a_spooled_package_has_the_right_sizes_and_checksums(many, tmp_path):
    pkg = build_package(many, device_for("kml"), ExportOptions(mobile=True, spool_dir=str(tmp_path)),
                        release=RELEASE, coverage=["world"])
    zf = zipfile.ZipFile(io.BytesIO(pkg.data))
    assert zf.testzip() is None
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest == pkg.manifest
    assert {f["name"] for f in manifest["files"]} | {"INSTALL.txt", "manifest.json"} == set(zf.namelist())
    for f in manifest["files"]:
        data = zf.read(f["name"])
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        assert len(data) == f["bytes"] == zf.getinfo(f["name"]).file_size
    assert max(f["bytes"] for f in manifest["files"]) > 1 << 20
    infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.external_attr == 0o644 << 16 for i in infos)
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)


def test_spool_files_are_made_only_in_the_spool_directory(many, tmp_path, monkeypatch):
    spool_dir, elsewhere, cwd = tmp_path / "spool", tmp_path / "tmp", tmp_path / "cwd"
    for d in (spool_dir, elsewhere, cwd):
        d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
    monkeypatch.chdir(cwd)
    names = []
    for identifier in PLUGINS:
        result = load_plugins()[identifier]().render(many, ExportOptions(mobile=True, spool_dir=str(spool_dir)))
        for f in result.files:
            if f.path is not None:
                assert os.path.dirname(f.path) == str(spool_dir)
                names.append(f.path)
    assert len(names) == len(set(names))  # a fresh file each, whatever the name in the package
    assert spool_listing(spool_dir) == sorted(names)
    assert spool_listing(elsewhere) == [] and spool_listing(cwd) == []


def test_the_spool_directory_is_no_part_of_the_options_identity(tmp_path):
    plain, spooled = ExportOptions(mobile=True), ExportOptions(mobile=True, spool_dir=str(tmp_path))
    assert spooled.key() == plain.key() and "spool_dir" not in spooled.key()
    assert spooled == plain and hash(spooled) == hash(plain)
    dev = get_device("garmin-nuvi")
    assert cache_key("r1", dev, ["FR"], spooled) == cache_key("r1", dev, ["FR"], plain)
    with pytest.raises(ExportError, match="does not exist"):
        ExportOptions(spool_dir=str(tmp_path / "missing"))


def test_a_failed_writer_leaves_no_spool_file(tmp_path):
    def broken(out):
        out.write(b"half a file")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        output_file("speedcams.csv", broken, ExportOptions(spool_dir=str(tmp_path)))
    assert spool_listing(tmp_path) == []


def test_output_file_helpers_work_for_memory_and_disk(tmp_path):
    data = b"lon,lat\r\n" * 1000
    memory = OutputFile("a/b.csv", data, "fixed", 3)
    with SpoolFile(str(tmp_path), "a/b.csv", "fixed", 3) as out:
        for start in range(0, len(data), 777):
            out.write(data[start:start + 777])
    disk = out.output
    assert disk.data is None and os.path.dirname(disk.path) == str(tmp_path) and disk.path.endswith(".csv")
    for f in (memory, disk):
        assert f.size == len(data) and f.read_bytes() == data
        assert f.sha256 == hashlib.sha256(data).hexdigest()
        with f.open() as fh:
            assert fh.read() == data
        buf = io.BytesIO()
        f.copy_to(buf)
        assert buf.getvalue() == data
    assert (disk.name, disk.category, disk.count) == ("a/b.csv", "fixed", 3)
    assert output_file("x.bin", data, ExportOptions()).data == data
    assert output_file("x.bin", lambda out: out.write(data), ExportOptions()).data == data
    assert output_file("x.bin", data, ExportOptions(spool_dir=str(tmp_path))).read_bytes() == data
    with pytest.raises(ValueError, match="either data or a path"):
        OutputFile("x.bin")
    with pytest.raises(ValueError, match="either data or a path"):
        OutputFile("x.bin", b"x", path=disk.path)


def test_select_copies_nothing_when_nothing_changes():
    cams = scaled_cameras(1000)  # in id order
    assert cams.sorted() is cams

    def shares_columns(selected, given):  # select adds the unit column, no other column is copied
        return set(selected.columns) == set(given.columns) | {"mph"} and all(
            selected.columns[c] is given.columns[c] for c in given.columns)

    assert shares_columns(common.select(cams, ExportOptions(mobile=True)), cams)
    fixed_only = cams.take(cams["kind"] != 1)
    assert shares_columns(common.select(fixed_only, ExportOptions()), fixed_only)
    shuffled = cams.take(np.random.default_rng(3).permutation(len(cams)))
    in_order = shuffled.sorted()
    assert in_order is not shuffled
    assert all(np.array_equal(in_order[c], cams[c], equal_nan=cams[c].dtype.kind == "f") for c in cams.columns)
    twice = CameraSet.from_records([{"id": 2}, {"id": 1}, {"id": 2, "speed": 30}])
    assert twice.sorted()["id"].tolist() == [1, 2, 2] and twice.sorted()["speed"].tolist() == [0, 0, 30]


def test_a_camera_set_from_arrow_shares_repeated_strings():
    pa = pytest.importorskip("pyarrow")
    from exporters.schema import SNAPSHOT_COLUMNS

    cams = scaled_cameras(200_000)
    desc = cams["description"].copy()
    desc[::5] = [f"Camera {i}" for i in range(0, len(desc), 5)]
    desc[7] = None
    cams.columns["description"] = desc
    table = pa.table({name: pa.array(cams[name].tolist()) if dtype == "str" else pa.array(cams[name])
                      for name, dtype in SNAPSHOT_COLUMNS.items()})
    loaded = CameraSet.from_arrow(table)
    for name, dtype in SNAPSHOT_COLUMNS.items():
        if dtype == "str":
            assert loaded[name].dtype == object and loaded[name].tolist() == table.column(name).to_pylist()
        else:
            assert np.array_equal(loaded[name], cams[name], equal_nan=cams[name].dtype.kind == "f")
    assert len({id(v) for v in loaded["country"].tolist()}) == len(set(loaded["country"].tolist()))
    assert len({id(v) for v in loaded["description"].tolist()}) == len(set(loaded["description"].tolist()))
