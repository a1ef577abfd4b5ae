"""python manage.py export / devices: a valid package for every device from the published release."""

import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from exporters.devices import DEVICES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("device", [d.id for d in DEVICES])
def test_export_builds_a_valid_package_for_every_device(device, release, tmp_path, capsys):
    out = tmp_path / f"{device}.zip"
    call_command("export", "--device", device, "--coverage", "europe", "-o", str(out))
    zf = zipfile.ZipFile(out)
    assert zf.testzip() is None
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["release"]["number"] == release.number
    assert manifest["counts"]["total"] > 400
    assert sum(f["count"] for f in manifest["files"]) >= manifest["counts"]["total"] - sum(manifest["skipped"].values())
    assert "cameras for" in capsys.readouterr().out


def test_export_cuts_to_the_coverage(release, tmp_path):
    out = tmp_path / "fr.zip"
    call_command("export", "--device", "igo-primo", "--coverage", "FR,BE", "-o", str(out))
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert set(manifest["counts"]["by_country"]) <= {"FR", "BE"}
    assert manifest["counts"]["by_country"]["FR"] > 50


def test_an_unknown_coverage_code_names_the_close_match(release, tmp_path):
    with pytest.raises(CommandError, match="western-europe"):
        call_command("export", "--device", "igo-primo", "--coverage", "westren-europe", "-o", str(tmp_path / "x.zip"))


def test_an_unknown_device_lists_the_valid_ones(release, tmp_path):
    with pytest.raises(CommandError, match="Valid devices: .*garmin-nuvi"):
        call_command("export", "--device", "nokia-3310", "-o", str(tmp_path / "x.zip"))


def test_an_unknown_icon_set_lists_the_valid_ones(release, tmp_path):
    with pytest.raises(CommandError, match="valid: speed, fr-danger"):
        call_command("export", "--device", "garmin-nuvi", "--icons", "pirate", "-o", str(tmp_path / "x.zip"))


def test_a_device_with_fixed_coverage_gets_its_default_with_the_reason(release, tmp_path, capsys):
    out = tmp_path / "s.zip"
    call_command("export", "--device", "sygic-android", "--coverage", "FR", "-o", str(out))
    err = capsys.readouterr().err
    assert "default coverage only" in err
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert manifest["coverage"]["codes"] == ["world-no-ch"]


def test_devices_lists_the_catalog_as_a_table_and_as_json(capsys):
    call_command("devices")
    out = capsys.readouterr().out
    assert "tomtom-go-classic" in out and "garmin-gpi" in out
    call_command("devices", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(DEVICES)
    assert {"id", "format", "mobile", "direction_aware", "install", "max_pois"} <= set(rows[0])


def test_export_spools_large_files_next_to_the_output_and_cleans_up(release, tmp_path, monkeypatch):
    from cameras import exporting

    seen = []
    real = exporting.build_package

    def spying(cameras, device, options, **kwargs):
        seen.append(options.spool_dir)
        package = real(cameras, device, options, **kwargs)
        seen.append(sorted(p.name for p in Path(options.spool_dir).iterdir()))
        return package

    monkeypatch.setattr(exporting, "build_package", spying)
    out = tmp_path / "gpx.zip"
    call_command("export", "--device", "osmand-gpx", "--coverage", "europe", "-o", str(out))
    spool_dir, spooled = seen
    assert Path(spool_dir).parent == tmp_path and spooled and all(name.endswith(".gpx") for name in spooled)
    assert not any(p.name.startswith(".") or p.name.endswith(".part") for p in tmp_path.iterdir())  # spool dir removed
    assert zipfile.ZipFile(out).testzip() is None


def test_export_to_a_missing_directory_is_a_clear_error(release, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export", "--device", "osmand-gpx", "-o", str(tmp_path / "nope" / "x.zip"))
