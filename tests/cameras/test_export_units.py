"""python manage.py export --units: the speed unit of names, file names and icons (auto: each
country's unit; kmh or mph for every camera)."""

import json
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command

from tests.exporters.readers.ov2_reader import read_ov2
from tests.exporters.readers.sygic_reader import read_sygic

pytestmark = pytest.mark.django_db


def export(tmp_path, *args) -> zipfile.ZipFile:
    out = tmp_path / "out.zip"
    call_command("export", *args, "-o", str(out))
    return zipfile.ZipFile(out)


def ov2_names(zf) -> dict[str, list[str]]:
    return {n: [p.name for p in read_ov2(zf.read(n)).pois] for n in zf.namelist() if n.endswith(".ov2")}


def test_auto_gives_uk_cameras_mph_files_and_names(release, tmp_path):
    zf = export(tmp_path, "--device", "tomtom-go-classic", "--coverage", "GB,FR")
    files = ov2_names(zf)
    mph_files = [n for n in files if re.search(r"_\d+mph\.ov2$", n)]
    assert mph_files, sorted(files)
    for name in mph_files:  # every POI of an mph file is a GB camera named in mph
        speed = re.search(r"_(\d+)mph\.ov2$", name)[1]
        assert all(f" {speed} mph" in poi for poi in files[name]), name
    assert any(re.search(r"_\d+\.ov2$", n) for n in files)  # French files stay km/h
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["options"]["speed_unit"] == "auto"
    assert "each country's unit" in zf.read("INSTALL.txt").decode()


def test_kmh_and_mph_force_one_unit(release, tmp_path):
    kmh = ov2_names(export(tmp_path, "--device", "tomtom-go-classic", "--coverage", "GB", "--units", "kmh"))
    assert kmh and not any("mph" in n or any("mph" in p for p in pois) for n, pois in kmh.items())
    mph = ov2_names(export(tmp_path, "--device", "tomtom-go-classic", "--coverage", "FR", "--units", "mph"))
    speed_files = [n for n in mph if n.startswith("tomtom/Speed_cameras_")]
    assert speed_files and all(n.endswith("mph.ov2") for n in speed_files)


def test_sygic_gets_the_unit_of_the_option(release, tmp_path):
    zf = export(tmp_path, "--device", "sygic-android", "--coverage", "FR", "--units", "mph")
    db = read_sygic(zf.read("offlinespeedcams.dat"))
    assert {c.speed_units for c in db.cameras} == {1}
    assert "Speed limits are in mph" in zf.read("INSTALL.txt").decode()


def test_a_bad_unit_says_what_is_accepted(release, tmp_path):
    with pytest.raises(CommandError, match="auto, kmh, mph|'auto', 'kmh', 'mph'"):
        call_command("export", "--device", "tomtom-go-classic", "--units", "knots", "-o", str(tmp_path / "x.zip"))


def test_the_language_option_changes_install_txt_only(release, tmp_path):
    en = export(tmp_path, "--device", "tomtom-go-classic", "--coverage", "FR")
    en_files = {n: en.read(n) for n in en.namelist()}
    fr = export(tmp_path, "--device", "tomtom-go-classic", "--coverage", "FR", "--language", "fr")
    fr_files = {n: fr.read(n) for n in fr.namelist()}
    assert json.loads(fr_files["manifest.json"])["options"]["language"] == "fr"
    assert "language" not in json.loads(en_files["manifest.json"])["options"]
    data = set(en_files) - {"INSTALL.txt", "manifest.json"}
    assert data and all(en_files[n] == fr_files[n] for n in data)
    with pytest.raises(CommandError, match="xx"):
        call_command("export", "--device", "tomtom-go-classic", "--language", "xx", "-o", str(tmp_path / "x.zip"))
