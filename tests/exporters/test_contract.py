"""Every registered exporter honours the contract on the same fixture set."""

import pytest

from exporters import common
from exporters.base import ExportOptions, OutputFile, RenderResult, load_plugins
from exporters.devices import CATALOG, DEVICES, get_device, validate_catalog
from exporters.base import ExportError

from tests.exporters.fixtures import sample_cameras

PLUGINS = sorted(load_plugins())


def test_the_catalog_has_at_least_fifteen_devices_across_the_brands():
    assert len(DEVICES) >= 15
    brands = {d.brand for d in DEVICES}
    assert {"TomTom", "Garmin", "iGO", "Navitel", "Sygic", "Mercedes-Benz"} <= brands
    assert {d.format for d in DEVICES} >= {"tomtom-ov2", "garmin-gpi", "garmin-poi-csv", "igo", "navitel", "sygic",
                                          "gpx", "kmz", "blaupunkt-kml"}


def test_every_device_maps_to_a_registered_format_with_instructions():
    assert validate_catalog() == []


def test_an_unknown_device_gets_the_valid_list_and_a_close_match():
    with pytest.raises(ExportError) as exc:
        get_device("tomtom-go-clasic")
    assert "tomtom-go-classic" in str(exc.value) and "garmin-nuvi" in str(exc.value)


def test_every_limit_says_where_it_comes_from():
    for device in CATALOG.values():
        for limit in (device.max_pois, device.max_file_bytes, device.max_categories):
            if limit is not None:
                assert limit.source and limit.value > 0


@pytest.mark.parametrize("identifier", PLUGINS)
@pytest.mark.parametrize("mobile", [False, True])
def test_every_exporter_renders_every_camera_deterministically(identifier, mobile):
    plugin = load_plugins()[identifier]()
    options = ExportOptions(mobile=mobile)
    first = plugin.render(sample_cameras(), options)
    second = plugin.render(sample_cameras(), options)
    assert isinstance(first, RenderResult) and first.files
    assert all(isinstance(f, OutputFile) and f.data for f in first.files)
    assert [(f.name, f.data) for f in first.files] == [(f.name, f.data) for f in second.files]
    names = [f.name for f in first.files]
    assert len(names) == len(set(names))
    selected = common.select(sample_cameras(), options)
    accounted = sum(f.count for f in first.files) + sum(first.skipped.values())
    assert accounted >= len(selected)  # every camera is in a file or counted as skipped


@pytest.mark.parametrize("identifier", PLUGINS)
def test_every_exporter_says_whether_it_is_direction_aware(identifier):
    plugin = load_plugins()[identifier]()
    result = plugin.render(sample_cameras(), ExportOptions())
    if not plugin.direction_aware:
        from exporters.package import build_package

        device = next((d for d in DEVICES if d.format == identifier), None)
        if device is not None:
            pkg = build_package(sample_cameras(), device, ExportOptions(), release={"number": 1, "date": "2026-01-01",
                                                                                   "sha256": "x"}, coverage=["world"])
            assert any("not direction-aware" in n for n in pkg.manifest["notes"])
    assert plugin.speed_carried_as in {"field", "name", "file"}
    assert result is not None
