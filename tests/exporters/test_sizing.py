"""Every plugin sizes its files exactly without writing them: for any subset of a camera
set, ``size_model(...).sizes(mask)`` equals what rendering that subset gives (names, POI
counts, bytes, skipped counts, notes)."""

import numpy as np
import pytest

from exporters import sizing
from exporters.base import CameraSet, ExportOptions, load_plugins

from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras

PLUGINS = sorted(load_plugins())

OPTIONS = {
    "fixed": ExportOptions(),
    "mobile": ExportOptions(mobile=True),
    "fr-danger-icons": ExportOptions(mobile=True, icons="fr-danger"),
    "fr-zones": ExportOptions(fr_danger_zones=True, proximity_m=500),
}


def mixed_cameras(n: int, seed: int = 3) -> CameraSet:
    """n cameras drawn from the sample rows (every type, accents, escapes, stretches), moved
    a little, with shuffled ids so the set is not in id order."""
    rng = np.random.default_rng(seed)
    base = sample_cameras()
    pick = rng.integers(0, len(SAMPLE_ROWS), n)
    cams = base.take(pick)
    cols = {k: v.copy() for k, v in cams.columns.items()}
    cols["id"] = rng.permutation(np.arange(1, n + 1)).astype(cols["id"].dtype)
    cols["lat"] = np.clip(cols["lat"] + rng.normal(0, 0.2, n), -89.9, 89.9)
    cols["lon"] = np.clip(cols["lon"] + rng.normal(0, 0.2, n), -179.9, 179.9)
    cols["end_lat"] = cols["end_lat"] + (cols["lat"] - cams["lat"])
    cols["end_lon"] = cols["end_lon"] + (cols["lon"] - cams["lon"])
    return CameraSet(cols)


def masks(cams: CameraSet, seed: int = 11):
    rng = np.random.default_rng(seed)
    n = len(cams)
    countries = cams["country"].astype(str)
    yield "all", None
    yield "none", np.zeros(n, dtype=bool)
    yield "one", np.arange(n) == rng.integers(n)
    yield "half", rng.random(n) < 0.5
    yield "tenth", rng.random(n) < 0.1
    yield "FR", countries == "FR"
    yield "not-FR", countries != "FR"
    yield "DE+IT", np.isin(countries, ["DE", "IT"])


def check(identifier, cams, options):
    exporter = load_plugins()[identifier]()
    model = exporter.size_model(cams, options)
    assert isinstance(model, sizing.SizeModel)
    for label, mask in masks(cams):
        expected = sizing.rendered_sizes(exporter, cams, options, mask)
        got = model.sizes(mask)
        assert got.files == expected.files, f"{identifier}, {label}: files differ"
        assert got.skipped == expected.skipped, f"{identifier}, {label}: skipped counts differ"
        assert got.notes == expected.notes, f"{identifier}, {label}: notes differ"


@pytest.mark.parametrize("options", list(OPTIONS), ids=list(OPTIONS))
@pytest.mark.parametrize("identifier", PLUGINS)
def test_sizes_equal_the_rendered_files_on_the_sample(identifier, options):
    check(identifier, sample_cameras(), OPTIONS[options])


@pytest.mark.parametrize("options", list(OPTIONS), ids=list(OPTIONS))
@pytest.mark.parametrize("identifier", PLUGINS)
def test_sizes_equal_the_rendered_files_on_mixed_cameras(identifier, options):
    check(identifier, mixed_cameras(3000), OPTIONS[options])


@pytest.mark.parametrize("identifier", PLUGINS)
def test_sizes_equal_the_rendered_files_on_a_scaled_set(identifier):
    check(identifier, scaled_cameras(20000), ExportOptions(mobile=True))
