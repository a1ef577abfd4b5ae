"""Installation steps per device family: TomTom NavCore models copy files into the map
folder, MyDrive-era models import through MyDrive; Sygic keeps a copy of its own file.
Existing device identifiers (orders reference them) stay valid."""

import io
import zipfile

from exporters.base import ExportError, ExportOptions
from exporters.devices import CATALOG, get_device
from exporters.package import build_package, check_options

import pytest

from tests.exporters.fixtures import sample_cameras

RELEASE = {"number": 1, "date": "2026-12-01", "sha256": "00" * 32}


def guide(device_id: str, **options) -> str:
    pkg = build_package(sample_cameras(), get_device(device_id), ExportOptions(**options), release=RELEASE,
                        coverage=["europe"])
    return zipfile.ZipFile(io.BytesIO(pkg.data)).read("INSTALL.txt").decode()


def test_the_existing_device_identifiers_stay():
    assert {"tomtom-go-classic", "tomtom-one-xl", "tomtom-start-via", "sygic-android",
            "blaupunkt-travelpilot"} <= set(CATALOG)


@pytest.mark.parametrize("device_id", ["tomtom-go-classic", "tomtom-one-xl", "tomtom-start-via"])
def test_navcore_models_copy_the_files_into_the_map_folder(device_id):
    text = guide(device_id)
    assert "map folder" in text and "Warn when near POI" in text
    assert "MyDrive" not in text


def test_mydrive_models_import_the_ov2_files_through_mydrive():
    device = get_device("tomtom-mydrive")
    assert device.brand == "TomTom" and "2013" in device.model and device.format == "tomtom-ov2"
    text = guide("tomtom-mydrive")
    assert "MyDrive Connect" in text and "plan.tomtom.com" in text and "POI list" in text
    steps = text.split("Installation")[1].split("What this file does")[0]
    assert "Copy every .ov2 file" not in steps and "Warn when near POI" not in steps
    assert "not from .ov2 files copied into a map folder" in steps


def test_mydrive_models_are_not_offered_the_icon_swap():
    with pytest.raises(ExportError, match="cannot swap icons"):
        check_options(get_device("tomtom-mydrive"), ExportOptions(icons="fr-danger"))


def test_sygic_steps_keep_a_copy_of_sygics_own_file_before_replacing_it():
    text = guide("sygic-android")
    steps = [line for line in text.splitlines() if line[:2] in {f"{i}." for i in range(1, 10)}]
    keep = next(i for i, s in enumerate(steps) if "copy Sygic's own offlinespeedcams.dat" in s)
    replace = next(i for i, s in enumerate(steps) if "replacing the old file" in s)
    assert keep < replace
    assert "Android/data/com.sygic.aura/files/maps/speedcams" in text
    assert "Speed limits are in km/h, and the file says so" in text
