"""common.categories() and common.poi_names() agree with straightforward reference versions."""

import numpy as np
import pytest

from exporters import common
from exporters.base import CameraSet
from exporters.common import CATEGORIES, SHORT_LABELS, Category, fit_name
from exporters.schema import Kind

from tests.exporters.fixtures import sample_cameras, scaled_cameras


def reference_categories(cameras: CameraSet, *, by_speed: bool = False) -> list[Category]:
    """One string comparison per camera and category, as categories() was first written."""
    cat = np.full(len(cameras), "other", dtype=object)
    for slug, _, members in CATEGORIES:
        cat[np.isin(cameras["type"], [int(t) for t in members])] = slug
    cat[cameras["kind"] == Kind.MOBILE] = "mobile"
    result = []
    for slug, title, _ in CATEGORIES:
        idx = np.nonzero(cat == slug)[0]
        if len(idx) == 0:
            continue
        if by_speed and slug in ("fixed", "red-light", "section"):
            speeds = cameras["speed"][idx]
            for sp in np.unique(speeds):
                part = idx[speeds == sp]
                suffix = f"-{int(sp)}" if sp else "-unknown"
                label = f" {int(sp)}" if sp else ""
                result.append(Category(slug + suffix, title + label, part, int(sp)))
        else:
            result.append(Category(slug, title, idx))
    return result


def reference_poi_names(cameras: CameraSet, *, max_len=None, speed_marker=" ", with_road=True) -> list[str]:
    """One name per camera, made camera by camera."""
    types, speeds = cameras["type"].tolist(), cameras["speed"].tolist()
    roads = cameras["road"].tolist() if with_road else [""] * len(types)
    out = []
    for t, sp, road in zip(types, speeds, roads):
        label = SHORT_LABELS.get(t, "Camera")
        if speed_marker == "@":
            base = f"{label} {road}".strip() if road else label
            out.append(fit_name(base, f"@{sp}" if sp else "", max_len))
        else:
            base = f"{label} {sp}" if sp else label
            out.append(fit_name(f"{base} {road}".strip() if road else base, "", max_len))
    return out


def odd_cameras() -> CameraSet:
    """Type codes outside the table, negative and extreme speeds, mobile kinds of fixed types."""
    cams = scaled_cameras(5000, seed=11)
    cols = {k: v.copy() for k, v in cams.columns.items()}
    cols["type"][:60] = np.arange(-20, 40)
    cols["type"][60:70] = 1000
    cols["speed"][::7] = -32768
    cols["speed"][::11] = 32767
    cols["kind"][::13] = Kind.MOBILE
    cols["road"][::5] = np.array(["Łódź", "", "A7 ", " A7", "x" * 80] * 200, dtype=object)[: len(cols["road"][::5])]
    return CameraSet(cols)


CAMERA_SETS = {
    "sample": sample_cameras,
    "scaled-200k": lambda: scaled_cameras(200_000),
    "odd": odd_cameras,
    "empty": lambda: sample_cameras().take(np.zeros(24, bool)),
}


@pytest.fixture(scope="module", params=sorted(CAMERA_SETS))
def cameras(request):
    return CAMERA_SETS[request.param]()


@pytest.mark.parametrize("by_speed", [False, True])
def test_categories_match_the_reference(cameras, by_speed):
    fast = common.categories(cameras, by_speed=by_speed)
    slow = reference_categories(cameras, by_speed=by_speed)
    assert [(c.slug, c.title, c.speed) for c in fast] == [(c.slug, c.title, c.speed) for c in slow]
    for a, b in zip(fast, slow):
        assert a.index.dtype == b.index.dtype
        assert np.array_equal(a.index, b.index)


@pytest.mark.parametrize("kwargs", [{}, dict(max_len=24, speed_marker="@"), dict(max_len=10),
                                    dict(with_road=False), dict(max_len=44, speed_marker="@", with_road=False)])
def test_poi_names_match_the_reference(cameras, kwargs):
    assert common.poi_names(cameras, **kwargs) == reference_poi_names(cameras, **kwargs)


def test_category_of_names_the_category_of_every_camera(cameras):
    expected = np.full(len(cameras), "", dtype=object)
    for cat in reference_categories(cameras):
        expected[cat.index] = cat.slug
    assert common.category_of(cameras).tolist() == expected.tolist()
