"""python manage.py export --proximity: the Garmin alert distance, by the limit (auto) or one for all."""

import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from tests.exporters.readers.gpi_reader import read_gpi

pytestmark = pytest.mark.django_db


def scaled(speed: int) -> int:
    """The documented rule: 300 m up to 50 km/h, 500 up to 90, 800 up to 110, 1,000 above, 500 unknown."""
    if not speed:
        return 500
    return 300 if speed <= 50 else 500 if speed <= 90 else 800 if speed <= 110 else 1000


def gpi_pois(path):
    zf = zipfile.ZipFile(path)
    return [p for name in zf.namelist() if name.endswith(".gpi") for p in read_gpi(zf.read(name)).pois], zf


def name_speed(name: str) -> int:
    words = name.split()
    return next((int(w) for w in words[1:3] if w.isdigit()), 0)


def test_by_default_each_camera_alerts_at_the_distance_of_its_limit(release, tmp_path):
    out = tmp_path / "auto.zip"
    call_command("export", "--device", "garmin-drivesmart", "--coverage", "FR,BE", "-o", str(out))
    pois, zf = gpi_pois(out)
    assert pois and {p.alert.speed_cms for p in pois} == {0}
    for p in pois:   # the limit is the number after the label ("Speed 50 ...", "Section start 70 ...")
        assert p.proximity_m == scaled(name_speed(p.name)), p.name
    assert {p.proximity_m for p in pois} >= {300, 500, 800, 1000}
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["options"]["proximity_m"] is None
    install = zf.read("INSTALL.txt").decode()
    assert "300 m up to 50 km/h" in install and "sounds at any speed" in install


def test_a_distance_in_metres_is_given_to_every_camera(release, tmp_path):
    out = tmp_path / "600.zip"
    call_command("export", "--device", "garmin-drivesmart", "--coverage", "FR,BE", "--proximity", "600",
                 "-o", str(out))
    pois, zf = gpi_pois(out)
    assert pois and {p.proximity_m for p in pois} == {600}
    assert json.loads(zf.read("manifest.json"))["options"]["proximity_m"] == 600
    assert "proximity alert at 600 m." in zf.read("INSTALL.txt").decode()


@pytest.mark.parametrize("value, message", [("near", "neither 'auto' nor a distance in metres"),
                                            ("0", "outside 1-5000 m"), ("9000", "outside 1-5000 m")])
def test_a_bad_proximity_says_what_is_accepted(release, tmp_path, value, message):
    with pytest.raises(CommandError, match=message):
        call_command("export", "--device", "garmin-nuvi", "--proximity", value, "-o", str(tmp_path / "x.zip"))
