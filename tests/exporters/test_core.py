"""The exporter contract: registry, camera sets, options, categories, names, France zones."""

import subprocess
import sys

import numpy as np
import pytest

from cameras.distance import haversine_m
from exporters import common
from exporters.base import REGISTRY, CameraSet, Exporter, ExportError, ExportOptions, register
from exporters.schema import CameraType, Kind

from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras


def test_exporters_never_import_django_or_the_camera_database():
    code = ("import sys, exporters.base, exporters.devices, exporters.package, exporters.common; "
            "exporters.base.load_plugins(); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'cameras', 'portal')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_duplicate_identifier_is_an_error():
    @register
    class First(Exporter):
        identifier = "test-duplicate"

    try:
        with pytest.raises(ValueError, match="duplicate exporter identifier 'test-duplicate'"):
            @register
            class Second(Exporter):
                identifier = "test-duplicate"
    finally:
        REGISTRY.pop("test-duplicate")


def test_an_unknown_icon_set_is_refused_with_the_valid_values():
    with pytest.raises(ExportError, match="valid: speed, fr-danger"):
        ExportOptions(icons="pirate")


def test_select_leaves_out_mobile_cameras_unless_asked():
    cams = sample_cameras()
    fixed = common.select(cams, ExportOptions(mobile=False))
    assert len(fixed) == len(cams) - 3
    assert not (fixed["kind"] == Kind.MOBILE).any()
    assert len(common.select(cams, ExportOptions(mobile=True))) == len(cams)


def test_categories_split_speed_cameras_per_speed_when_the_format_needs_it():
    cams = common.select(sample_cameras(), ExportOptions(mobile=True))
    by_speed = {c.slug: len(c.index) for c in common.categories(cams, by_speed=True)}
    assert by_speed["fixed-50"] == 2 and by_speed["fixed-130"] == 1 and by_speed["mobile"] == 3
    plain = {c.slug: len(c.index) for c in common.categories(cams)}
    assert plain == {"fixed": 12, "red-light": 2, "section": 3, "other": 3, "danger": 1, "mobile": 3}
    assert sum(plain.values()) == len(cams)


def test_a_long_name_is_shortened_but_the_speed_marker_is_kept_whole():
    cams = common.select(sample_cameras(), ExportOptions())
    names = common.poi_names(cams, max_len=24, speed_marker="@")
    long_one = names[list(cams["id"]).index(24)]
    assert long_one.endswith("@110") and len(long_one) == 24
    assert all(len(n) <= 24 for n in names)


def test_france_danger_zones_hide_the_exact_position_and_the_speed():
    cams = sample_cameras()
    zones = common.select(cams, ExportOptions(fr_danger_zones=True))
    fr = zones["country"] == "FR"
    assert set(zones["type"][fr]) == {CameraType.DANGER_ZONE}
    assert not zones["speed"][fr].any()
    paris = SAMPLE_ROWS[0]  # 50 km/h, heading 90: a 300 m zone that contains the camera
    i = list(zones["id"]).index(1)
    assert (zones["lon"][i], zones["lat"][i]) != (paris["lon"], paris["lat"])
    start_to_cam = haversine_m(zones["lat"][i], zones["lon"][i], paris["lat"], paris["lon"])
    zone_len = haversine_m(zones["lat"][i], zones["lon"][i], zones["end_lat"][i], zones["end_lon"][i])
    assert zone_len == pytest.approx(300, abs=1)
    assert 0.1 * 300 - 1 <= start_to_cam <= 0.9 * 300 + 1
    # Motorway camera (110 km/h): a 4 km zone. Other countries are untouched.
    j = list(zones["id"]).index(24)
    assert haversine_m(zones["lat"][j], zones["lon"][j], zones["end_lat"][j], zones["end_lon"][j]) == pytest.approx(4000, abs=2)
    plain = common.select(cams, ExportOptions())
    assert zones["speed"][~fr].tolist() == plain["speed"][~fr].tolist()
    assert zones["lat"][~fr].tolist() == plain["lat"][~fr].tolist()


def test_a_camera_set_refuses_missing_columns():
    with pytest.raises(ExportError, match="lacks columns"):
        CameraSet({"id": np.arange(3)})
