"""Helpers shared by the format plugins: categories, POI names, France danger zones."""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

import numpy as np

from .base import CameraSet, ExportOptions
from .schema import CameraType, Kind
from .france import france_danger_zones
from .textrows import group_codes
from .units import mph_of, shown, shown_speeds, speed_label, unit_columns, with_units

EARTH_M_PER_DEG = 111_195.0

# Category slug -> (title, camera types). Mobile cameras form their own category whatever
# their type. Order is the order files appear in packages.
CATEGORIES = [
    ("fixed", "Speed cameras", (CameraType.SPEED, CameraType.VARIABLE_LIMIT, CameraType.TUNNEL, CameraType.DISTANCE)),
    ("red-light", "Red-light cameras", (CameraType.RED_LIGHT, CameraType.RED_LIGHT_SPEED)),
    ("section", "Average-speed sections", (CameraType.SECTION_START, CameraType.SECTION_END, CameraType.SECTION)),
    ("route", "Route enforcement", (CameraType.ROUTE_ENFORCEMENT,)),
    ("other", "Other enforcement", (CameraType.LEVEL_CROSSING, CameraType.BUS_LANE, CameraType.OTHER)),
    ("danger", "Danger zones", (CameraType.DANGER_ZONE,)),
    ("mobile", "Mobile cameras", (CameraType.MOBILE_ZONE, CameraType.MOBILE_CAMERA, CameraType.POLICE_CHECK)),
]
CATEGORY_TITLES = {slug: title for slug, title, _ in CATEGORIES}


@dataclass
class Category:
    slug: str          # e.g. "fixed" or "fixed-50" when split by speed ("fixed-30mph" in mph)
    title: str         # e.g. "Speed cameras 50" ("Speed cameras 30 mph")
    index: np.ndarray  # row indices into the camera set, in id order
    speed: int = 0     # the speed of a per-speed category, in its unit
    unit: str = "kmh"  # the unit of ``speed`` ("kmh" or "mph")


# CameraType code -> index into CATEGORIES (codes outside the table: "other").
_OTHER = next(i for i, (slug, _, _) in enumerate(CATEGORIES) if slug == "other")
_MOBILE = next(i for i, (slug, _, _) in enumerate(CATEGORIES) if slug == "mobile")
_CATEGORY_OF_TYPE = np.full(max(int(t) for t in CameraType) + 1, _OTHER, dtype=np.int8)
for _i, (_, _, _members) in enumerate(CATEGORIES):
    _CATEGORY_OF_TYPE[[int(t) for t in _members]] = _i
_BY_SPEED = frozenset({"fixed", "red-light", "section"})  # the categories ``by_speed`` splits


def category_codes(cameras: CameraSet) -> np.ndarray:
    """Index into ``CATEGORIES`` per camera (int8): a table lookup by type, mobile kind first."""
    types = cameras["type"]
    if len(types) and (int(types.min()) < 0 or int(types.max()) >= len(_CATEGORY_OF_TYPE)):
        known = (types >= 0) & (types < len(_CATEGORY_OF_TYPE))
        codes = np.full(len(types), _OTHER, dtype=np.int8)
        codes[known] = _CATEGORY_OF_TYPE[types[known]]
    else:
        codes = _CATEGORY_OF_TYPE[types]
    codes[cameras["kind"] == Kind.MOBILE] = _MOBILE
    return codes


def category_of(cameras: CameraSet) -> np.ndarray:
    """Category slug per camera."""
    slugs = np.array([slug for slug, _, _ in CATEGORIES], dtype=object)
    return slugs[category_codes(cameras)]


# select() results of the current ``same_selection()`` block: (id of the set, options key) ->
# (the set, the selection); None outside a block (nothing is kept).
_SELECTIONS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("selections", default=None)


@contextlib.contextmanager
def same_selection():
    """Within the block, ``select`` of the same camera set object with the same options
    returns the selection it made before instead of making it again (a package build asks
    for it in the plugin, once more for its own units, and for the manifest's counts; France
    danger zones are the costly part). The selections are dropped when the outermost block
    ends, so nothing outlives the build; blocks nest, and each thread has its own."""
    token = _SELECTIONS.set({}) if _SELECTIONS.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _SELECTIONS.reset(token)


def select(cameras: CameraSet, options: ExportOptions) -> CameraSet:
    """The cameras an export includes: mobile ones only when asked, France as zones if asked,
    with the unit each limit is shown in (``units.with_units``: the column ``mph``).

    Columns are only copied when something changes: a set already in id order with nothing
    left out shares its columns with the given one (so do not change the result in place).
    Inside ``same_selection()`` the same set and options give the same result object.
    """
    memo = _SELECTIONS.get()
    if memo is None:
        return _select(cameras, options)
    key = (id(cameras), tuple(sorted(options.key().items())))
    hit = memo.get(key)
    if hit is not None and hit[0] is cameras:
        return hit[1]
    selected = _select(cameras, options)
    memo[key] = (cameras, selected)  # the set is kept with it, so its id is not reused meanwhile
    return selected


def _select(cameras: CameraSet, options: ExportOptions) -> CameraSet:
    cams = cameras.sorted()
    if not options.mobile:
        fixed = cams["kind"] != Kind.MOBILE
        if not fixed.all():
            cams = cams.take(fixed)
    if options.fr_danger_zones:
        cams = france_danger_zones(cams)
    return with_units(cams, options.speed_unit)


def select_index(cameras: CameraSet, options: ExportOptions) -> tuple[CameraSet, np.ndarray]:
    """``select(cameras, options)`` and, for each of its rows, the row of ``cameras`` it
    comes from (size models work on the selected set and answer for the given one)."""
    ids = cameras["id"]
    if len(ids) < 2 or bool(np.all(ids[1:] >= ids[:-1])):
        index = np.arange(len(ids))
    else:
        index = np.argsort(ids, kind="stable")
    if not options.mobile:
        index = index[cameras["kind"][index] != Kind.MOBILE]
    return select(cameras, options), index


def scatter(values: np.ndarray, index: np.ndarray, n: int, fill=-1) -> np.ndarray:
    """An array of length ``n`` holding ``values`` at ``index`` and ``fill`` elsewhere."""
    values = np.asarray(values)
    out = np.full(n, fill, dtype=values.dtype if values.dtype.kind != "b" else bool)
    out[index] = values
    return out


def categories(cameras: CameraSet, *, by_speed: bool = False) -> list[Category]:
    """Non-empty categories in a fixed order; with ``by_speed`` the speed cameras split per speed.

    Each camera gets a group number (category, then speed where split), the groups are
    counted (``bincount``) and one stable sort by group lists their rows in id order.
    """
    n = len(cameras)
    if n == 0:
        return []
    codes = category_codes(cameras)
    split = np.array([by_speed and slug in _BY_SPEED for slug, _, _ in CATEGORIES])
    lo, width = 0, 1
    if split.any():  # group = category * width + (speed key - lowest key) where split, else category * width
        # speed key: 2 * the speed in its unit, + 1 for mph (an unknown speed has no unit)
        shown = shown_speeds(cameras)
        speeds = 2 * shown + (mph_of(cameras) & (shown > 0))
        lo = int(speeds.min())
        width = int(speeds.max()) - lo + 1
        group = codes.astype(np.int32) * width  # at most 6 * 2 * 65536: int32 (numpy 1.26 and 2 alike)
        group += split.astype(np.int32)[codes] * (speeds.astype(np.int32) - lo)
    else:
        group = codes
    counts = np.bincount(group)
    present = np.flatnonzero(counts)
    k = len(present)
    dense = np.zeros(len(counts), dtype=np.uint8 if k <= 2**8 else np.uint16 if k <= 2**16 else np.int64)
    dense[present] = np.arange(k)
    order = np.argsort(dense[group], kind="stable")  # small integer keys: a radix sort
    ends = np.cumsum(counts[present])
    result = []
    for g, start, end in zip(present.tolist(), (ends - counts[present]).tolist(), ends.tolist()):
        i, sp = divmod(g, width)
        slug, title, _ = CATEGORIES[i]
        part = order[start:end]
        if split[i]:
            sp, mph = divmod(sp + lo, 2)
            suffix = (f"-{sp}mph" if mph else f"-{sp}") if sp else "-unknown"
            label = f" {speed_label(sp, bool(mph))}" if sp else ""
            result.append(Category(slug + suffix, title + label, part, sp, "mph" if mph else "kmh"))
        else:
            result.append(Category(slug, title, part))
    return result


SHORT_LABELS = {
    CameraType.SPEED: "Speed", CameraType.RED_LIGHT: "Red light", CameraType.RED_LIGHT_SPEED: "Red light+speed",
    CameraType.SECTION_START: "Section start", CameraType.SECTION_END: "Section end", CameraType.MOBILE_ZONE: "Mobile zone",
    CameraType.TUNNEL: "Tunnel", CameraType.VARIABLE_LIMIT: "Variable limit", CameraType.DANGER_ZONE: "Danger zone",
    CameraType.LEVEL_CROSSING: "Level crossing", CameraType.SECTION: "Section", CameraType.MOBILE_CAMERA: "Mobile",
    CameraType.POLICE_CHECK: "Police check", CameraType.DISTANCE: "Distance", CameraType.BUS_LANE: "Bus lane",
    CameraType.ROUTE_ENFORCEMENT: "Route enforcement",
    CameraType.OTHER: "Camera",
}


def fit_name(base: str, suffix: str, max_len: int | None) -> str:
    """Shorten ``base`` so ``base + suffix`` fits ``max_len``; the suffix (e.g. "@50") is never cut."""
    if max_len is None or len(base) + len(suffix) <= max_len:
        return base + suffix
    room = max_len - len(suffix)
    if room <= 0:
        raise ValueError(f"name suffix {suffix!r} alone is longer than {max_len} characters")
    return base[:room].rstrip() + suffix


def poi_names(cameras: CameraSet, *, max_len: int | None = None, speed_marker: str = " ",
              with_road: bool = True) -> list[str]:
    """Display names: "Speed 50 A7" style, or "Speed A7@50" with ``speed_marker="@"``.

    The speed is in each camera's unit (the column ``mph``, see ``exporters.units``): km/h
    names carry the number alone ("Speed 50 A7"), mph names the unit ("Speed 30 mph A40").
    With "@" the speed is a POI-Loader alert suffix, a bare number in the unit POI Loader is
    set to (the caller gives every camera that one unit), kept whole whatever the limit.
    A name depends on (type, speed, unit, road) only: it is made once per distinct combination.
    """
    if not len(cameras):
        return []
    columns = (cameras["type"], cameras["speed"], *unit_columns(cameras)) + ((cameras["road"],) if with_road else ())
    codes, first = group_codes(*columns)
    types = cameras["type"][first].tolist()
    mph = mph_of(cameras)[first]
    speeds = shown(cameras["speed"][first], mph).tolist()
    mph = mph.tolist()
    roads = cameras["road"][first].tolist() if with_road else [""] * len(types)
    names = np.empty(len(types), dtype=object)
    for k, (t, sp, in_mph, road) in enumerate(zip(types, speeds, mph, roads)):
        label = SHORT_LABELS.get(t, "Camera")
        if speed_marker == "@":
            base = f"{label} {road}".strip() if road else label
            names[k] = fit_name(base, f"@{sp}" if sp else "", max_len)
        else:
            base = f"{label} {speed_label(sp, in_mph)}" if sp else label
            names[k] = fit_name(f"{base} {road}".strip() if road else base, "", max_len)
    return names[codes].tolist()
