"""Every device's package in every language: INSTALL.txt (steps, notes, the law where you
drive, warnings) and the manifest's notes read in that language, with no sentence left as in
the English package. The data files are the same bytes in every language."""

import io
import json
import zipfile

import pytest

from cameras.legal import install_notes
from exporters import i18n
from exporters.base import ExportOptions
from exporters.devices import DEVICES
from exporters.package import build_package
from tests.exporters.fixtures import sample_cameras
from tests.portal.i18n.textdiff import LANGUAGES, text_segments, untranslated

RELEASE = {"number": 3, "date": "2026-11-01", "sha256": "ab" * 32}


def package(device, language, **options):
    with i18n.override(language):
        notes = install_notes()
    built = build_package(sample_cameras(), device, ExportOptions(language=language, **options), release=RELEASE,
                          coverage=["FR", "DE", "CH", "GB"], legal_notes=notes)
    with zipfile.ZipFile(io.BytesIO(built.data)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    return files


def texts(files) -> set[str]:
    manifest = json.loads(files["manifest.json"])
    notes = "\n".join(manifest.get("notes", []) + manifest.get("warnings", []))
    return text_segments(files["INSTALL.txt"].decode("utf-8")) | text_segments(notes)


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.id)
def test_install_txt_and_notes_are_translated_for_every_device(device):
    options = {"mobile": device.mobile}
    english = package(device, "en", **options)
    left = {}
    for code in LANGUAGES:
        other = package(device, code, **options)
        same = untranslated(texts(english), texts(other))
        if same:
            left[code] = same
        data = {name for name in english if name not in ("INSTALL.txt", "manifest.json")}
        assert {name: english[name] for name in data} == {name: other[name] for name in data}, code
    assert not left, "\n".join(f"{code}: {same[:6]}" for code, same in left.items())
