"""INSTALL.txt in the customer's language: ExportOptions.language, rendered under
``override(options.language)``; the data files do not change with the language."""

import io
import zipfile

import pytest
from django.utils import translation

from exporters import i18n, package
from exporters.base import ExportError, ExportOptions
from exporters.devices import get_device
from exporters.package import build_package, cache_key
from exporters.schema import CameraType

from tests.exporters.fixtures import sample_cameras, scaled_cameras

RELEASE = {"number": 3, "date": "2026-11-01", "sha256": "ab" * 32}
NNBSP = "\u202f"  # French digit grouping (Babel, CLDR): a narrow no-break space


def build(cameras=None, device_id="tomtom-go-classic", **options):
    return build_package(sample_cameras() if cameras is None else cameras, get_device(device_id),
                         ExportOptions(**options), release=RELEASE, coverage=["europe"])


def entries(pkg) -> dict[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(pkg.data))
    return {name: zf.read(name) for name in zf.namelist()}


def test_the_languages_are_the_shops_eight():
    assert i18n.LANGUAGES == ("en", "fr", "de", "es", "it", "nl", "pt", "pl")
    from django.conf import settings
    assert {code for code, _ in settings.LANGUAGES} == set(i18n.LANGUAGES)


def test_the_default_key_is_unchanged_and_another_language_changes_it():
    assert ExportOptions().key() == {"mobile": False, "icons": "speed", "fr_danger_zones": False,
                                     "proximity_m": None, "speed_unit": "auto"}
    assert ExportOptions(language="en").key() == ExportOptions().key()
    fr = ExportOptions(language="fr")
    assert fr.key() != ExportOptions().key() and fr.key()["language"] == "fr"
    device = get_device("tomtom-go-classic")
    assert cache_key("ab" * 32, device, ["FR"], fr) != cache_key("ab" * 32, device, ["FR"], ExportOptions())
    assert ExportOptions(**fr.key()) == fr  # the key rebuilds the options (fan-out tasks)


def test_an_unknown_language_is_refused_with_the_valid_ones():
    with pytest.raises(ExportError, match=r"unknown language 'xx'; valid: en, fr, de, es, it, nl, pt, pl"):
        ExportOptions(language="xx")


def test_install_guide_is_rendered_in_the_options_language(monkeypatch):
    seen = []
    real = package.install_guide

    def spy(*args, **kwargs):
        seen.append(translation.get_language())
        return real(*args, **kwargs)

    monkeypatch.setattr(package, "install_guide", spy)
    with translation.override("en"):
        build(language="fr")
        build()
        assert translation.get_language() == "en"  # restored afterwards
    assert seen == ["fr", "en"]


def test_numbers_in_install_txt_follow_the_language():
    cams = scaled_cameras(1234)
    en = entries(build(cams, "generic-csv", mobile=True))["INSTALL.txt"].decode()
    fr = entries(build(cams, "generic-csv", mobile=True, language="fr"))["INSTALL.txt"].decode()
    assert "1,234 cameras." in en
    assert f"1{NNBSP}234 radars." in fr  # French words (the catalog), French digits
    assert "Version 3 (1 novembre 2026)" in fr and "Release 3 (November 1, 2026)" in en  # the release date too


def test_the_data_files_are_byte_identical_in_every_language():
    for device_id in ("tomtom-go-classic", "garmin-nuvi", "generic-csv"):
        en = entries(build(device_id=device_id))
        fr = entries(build(device_id=device_id, language="fr"))
        data = set(en) - {"INSTALL.txt", "manifest.json"}
        assert data and set(fr) - {"INSTALL.txt", "manifest.json"} == data
        assert all(en[name] == fr[name] for name in data), device_id


def test_the_english_package_is_unchanged_by_the_language_option():
    assert build().data == build(language="en").data
    assert build().sha256 != build(language="fr").sha256  # the manifest names the language


def test_number_groups_digits_by_the_active_language():
    assert i18n.number(1234567) == "1,234,567"
    with i18n.override("fr"):
        assert i18n.number(1234) == f"1{NNBSP}234"
    with i18n.override("de"):
        assert i18n.number(1234) == "1.234"


def test_catalog_texts_stay_english_and_are_read_in_the_active_language():
    device = get_device("tomtom-go-classic")
    assert device.install == device.english("install") and device.install_steps() == device.install
    assert device.install[0] == "Unzip the package on your computer."
    with i18n.override("fr"):  # the catalog's French, read when shown; the catalog entry stays English
        assert device.install[0] == "Décompressez le paquet sur votre ordinateur."
        assert device.english("install")[0] == "Unzip the package on your computer."
        assert "m jusqu'à 50 km/h" in get_device("garmin-nuvi").alerts
    assert CameraType.SPEED.label == "Speed camera" and CameraType.SPEED.display_label == "Speed camera"
    with i18n.override("fr"):
        limit = get_device("mercedes-comand").max_pois.describe("POIs")
    assert limit.startswith(f"25{NNBSP}000 POI (")  # French digits and words
