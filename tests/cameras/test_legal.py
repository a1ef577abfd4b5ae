"""cameras.legal: the per-country notes (each sourced and dated), Switzerland out of every
default coverage, and the notes in every package's INSTALL.txt for the countries it holds."""

import io
import re
import zipfile
from datetime import date

import numpy as np
import pytest

from cameras import legal, regions
from cameras.exporting import export_package, sizer
from cameras.coverage import Coverage
from exporters.base import ExportOptions
from exporters.devices import DEVICES, get_device
from exporters.package import build_package
from tests.exporters.fixtures import sample_cameras
from tests.releases import demo_release

RELEASE = {"number": 1, "date": "2026-12-01", "sha256": "00" * 32}


def test_every_note_cites_its_law_and_a_dated_source():
    assert {"FR", "DE", "CH"} <= set(legal.NOTES)
    for code, note in legal.NOTES.items():
        assert note.country == code and code in regions.country_names()
        assert note.law and note.text and note.rule
        assert re.match(r"https://|docs/", note.source), note.source
        assert date.fromisoformat(note.checked) <= date.today()
    assert "StVO § 23 Abs. 1c" in legal.NOTES["DE"].law
    assert "Art. 98a" in legal.NOTES["CH"].law
    assert "danger zones" in legal.NOTES["FR"].rule


def test_the_notes_of_a_coverage_follow_its_countries():
    assert [n.country for n in legal.notes_for(regions.expand("dach"))] == ["DE", "CH"]
    assert [n.country for n in legal.notes_for(regions.expand("western-europe"))] == ["FR", "DE", "CH"]
    assert legal.notes_for(regions.expand("iberia")) == []


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.id)
def test_no_default_coverage_holds_switzerland(device):
    countries = regions.expand(device.default_coverage)
    assert "CH" not in countries and countries
    # the rest of the region is still there
    assert {"DE", "AT"} <= countries


def build_guide(countries: list[str]) -> str:
    """INSTALL.txt of a package holding the sample's cameras of ``countries``."""
    cams = sample_cameras()
    subset = cams.take(np.flatnonzero(np.isin(cams["country"], countries)))
    pkg = build_package(subset, get_device("tomtom-go-classic"), ExportOptions(), release=RELEASE,
                        coverage=countries, legal_notes=legal.install_notes())
    return zipfile.ZipFile(io.BytesIO(pkg.data)).read("INSTALL.txt").decode()


def test_install_txt_states_the_law_of_each_country_the_package_holds():
    text = build_guide(["DE", "CH", "AT"])
    assert "THE LAW WHERE YOU DRIVE" in text
    assert "Switzerland (prohibited)" in text and "SVG) Art. 98a" in text
    assert "Germany (prohibited while driving)" in text and "StVO § 23 Abs. 1c" in text
    assert "France (" not in text  # no French cameras in this package
    assert "THE LAW WHERE YOU DRIVE" not in build_guide(["IT", "ES"])


@pytest.mark.django_db
def test_the_shops_package_and_its_size_carry_the_notes(tmp_path):
    release = demo_release(tmp_path, cameras=400, seed=3)
    device = get_device("garmin-nuvi")
    coverage = Coverage.parse(["dach"])
    package = export_package(device, coverage, ExportOptions(), release=release)
    text = zipfile.ZipFile(io.BytesIO(package.data)).read("INSTALL.txt").decode()
    held = package.manifest["counts"]["by_country"]
    assert {"DE", "CH"} <= set(held)
    assert "SVG) Art. 98a" in text and "StVO § 23 Abs. 1c" in text
    size = sizer(release, device, ExportOptions()).size(coverage)
    assert {f["name"]: f["bytes"] for f in size.files}["INSTALL.txt"] == len(text.encode())
