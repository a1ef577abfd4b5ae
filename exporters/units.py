"""Speed units: which unit each camera's limit is shown in, and the conversion.

The camera set holds every limit in km/h (``schema.SNAPSHOT_COLUMNS``); a limit imported
in mph was stored as ``round(mph * 1.609344)`` (30 mph -> 48 km/h). What a driver reads
(names, file names, speed-sign icons, the POI Loader "@" number, Sygic's SpeedLimit) is in
the unit of ``ExportOptions.speed_unit``:

- ``"auto"``: each camera's country's unit, mph in ``MPH_COUNTRIES``, km/h elsewhere;
- ``"kmh"`` / ``"mph"``: that unit for every camera.

A file that has one unit for all its speeds (POI Loader's "@" numbers, which follow the
unit chosen in POI Loader; Sygic's SpeedLimitUnits) takes ``file_unit``: the forced unit,
or with "auto" the unit of most of the cameras (km/h on a tie).

mph values are the km/h value divided by 1.609344 and rounded to the nearest whole number
(halves up): a limit stored from an mph source comes back exactly (48 -> 30, 64 -> 40,
80 -> 50, 97 -> 60, 113 -> 70), since ``round(m * 1.609344)`` is within 0.5 km/h of
``m * 1.609344`` and 0.5 km/h is 0.31 mph.

Formats whose speed field is defined in km/h (iGO and Navitel SPEED, the project's CSV and
GeoJSON feed columns) keep km/h whatever the option.

``with_units`` adds the boolean column ``MPH_COLUMN`` (True = shown in mph) to a camera set;
``common.select`` does it for every export, so ``common.poi_names``, ``common.categories``
and the icons read the unit from the cameras they get.
"""

from __future__ import annotations

import numpy as np

from .i18n import gettext, gettext_noop, ngettext, number

from .base import SPEED_UNITS, CameraSet
from .schema import Kind
from .sizing import SizeModel

KM_PER_MILE = 1.609344  # international mile, exact
UNITS = ("kmh", "mph")
UNIT_LABELS = {"kmh": "km/h", "mph": "mph"}
MPH_COLUMN = "mph"

# Countries and territories that post speed limits in mph: the United Kingdom and its Crown
# dependencies and territories that drive in mph, the United States and its territories,
# Liberia and the Caribbean states that use miles (sources: Wikipedia, "Miles per hour",
# section "Usage", and "Speed limits by country", unit column). The same list as the camera
# importer's (cameras.formats.options.MPH_COUNTRIES; tests/exporters/test_units.py checks
# that the two agree). "UK" is accepted as an alias of GB, as the importer does.
MPH_COUNTRIES = frozenset({"GB", "UK", "US", "LR", "BS", "BZ", "KY", "FK", "PR", "VI", "VG", "GU", "MP", "AS",
                           "WS", "AG", "KN", "MS", "DM", "LC", "VC", "GD", "AI", "TC", "SH", "JE", "GG", "IM"})


def check_unit(speed_unit: str) -> str:
    if speed_unit not in SPEED_UNITS:
        raise ValueError(f"unknown speed unit {speed_unit!r}; valid: {', '.join(SPEED_UNITS)}")
    return speed_unit


def to_mph(kmh) -> np.ndarray:
    """km/h (0 = unknown) to whole mph, rounded to the nearest (halves up); 0 stays 0."""
    kmh = np.asarray(kmh, dtype=np.int64)
    return np.floor(kmh / KM_PER_MILE + 0.5).astype(np.int64)


def speeds_in(kmh, unit: str) -> np.ndarray:
    """Speeds (km/h, 0 = unknown) in ``unit`` ("kmh" or "mph"), int64."""
    if unit == "mph":
        return to_mph(kmh)
    if unit != "kmh":
        raise ValueError(f"unknown speed unit {unit!r}; valid: {', '.join(UNITS)}")
    return np.asarray(kmh, dtype=np.int64)


def mph_countries(countries) -> np.ndarray:
    """Per camera: whether its country posts limits in mph (``MPH_COUNTRIES``)."""
    countries = np.asarray(countries, dtype=object)
    return np.fromiter(map(MPH_COUNTRIES.__contains__, countries.tolist()), dtype=bool, count=len(countries))


def mph_mask(cameras: CameraSet, speed_unit: str) -> np.ndarray:
    """Per camera: whether its limit is shown in mph with the option ``speed_unit``."""
    check_unit(speed_unit)
    n = len(cameras)
    if speed_unit == "auto":
        return mph_countries(cameras["country"])
    return np.full(n, speed_unit == "mph", dtype=bool)


def with_mph(cameras: CameraSet, mph: np.ndarray) -> CameraSet:
    """``cameras`` with the column ``MPH_COLUMN`` set to ``mph`` (the other columns shared,
    not copied)."""
    out = CameraSet.__new__(CameraSet)  # the columns were checked when ``cameras`` was made
    out.columns = {**cameras.columns, MPH_COLUMN: np.asarray(mph, dtype=bool)}
    return out


def with_units(cameras: CameraSet, speed_unit: str) -> CameraSet:
    """``cameras`` with the column ``MPH_COLUMN`` of the option ``speed_unit``."""
    return with_mph(cameras, mph_mask(cameras, speed_unit))


def mph_of(cameras: CameraSet) -> np.ndarray:
    """The ``MPH_COLUMN`` of ``cameras``, all False (km/h) when it has none."""
    col = cameras.columns.get(MPH_COLUMN)
    return np.zeros(len(cameras), dtype=bool) if col is None else col


def unit_columns(cameras: CameraSet) -> tuple[np.ndarray, ...]:
    """``(cameras[MPH_COLUMN],)`` when the set has the column, else ``()``: for the groupings
    of cameras whose names depend on the unit."""
    col = cameras.columns.get(MPH_COLUMN)
    return () if col is None else (col,)


def shown(kmh, mph) -> np.ndarray:
    """Limits (km/h) each in its unit: mph where ``mph`` is True; int64, 0 = unknown."""
    kmh = np.asarray(kmh, dtype=np.int64)
    mph = np.asarray(mph, dtype=bool)
    if not mph.any():
        return kmh
    return np.where(mph, to_mph(kmh), kmh)


def shown_speeds(cameras: CameraSet) -> np.ndarray:
    """Each camera's limit in its unit (``MPH_COLUMN``), int64, 0 = unknown."""
    return shown(cameras["speed"], mph_of(cameras))


def majority_unit(mph: np.ndarray) -> str:
    """"mph" when more than half of ``mph`` is True, else "kmh" (a tie and no cameras: km/h)."""
    mph = np.asarray(mph, dtype=bool)
    return "mph" if 2 * int(np.count_nonzero(mph)) > len(mph) else "kmh"


def auto_mph(cameras: CameraSet) -> np.ndarray:
    """Per camera: whether its country posts limits in mph, for a set exported with the
    "auto" unit. ``common.select`` has then already looked the countries up (its
    ``MPH_COLUMN`` is exactly this), so the column is used; the countries are looked up
    only for a set without it. Call it only when the option is "auto"."""
    col = cameras.columns.get(MPH_COLUMN)
    return mph_countries(cameras["country"]) if col is None else col


def file_unit(cameras: CameraSet, speed_unit: str) -> str:
    """The one unit of a file that carries one for all its speeds: the forced unit, or with
    "auto" the unit most of ``cameras`` are shown in (``majority_unit``)."""
    if check_unit(speed_unit) != "auto":
        return speed_unit
    return majority_unit(auto_mph(cameras))


def speed_label(speed: int, mph: bool) -> str:
    """A limit in a name: "50" (km/h, the unit names leave out) or "30 mph"."""
    return f"{speed} mph" if mph else str(speed)


def unit_words(unit: str) -> str:
    """"km/h" or "mph" in a sentence: "kilometres per hour (km/h)" / "miles per hour (mph)"."""
    return gettext({"kmh": gettext_noop("kilometres per hour (km/h)"), "mph": gettext_noop("miles per hour (mph)")}[unit])


def names_note_for(speed_unit: str, by_country: dict[str, int]) -> str:
    """What the names of a package say about units, from the option and its cameras per
    country: the empty string when every limit is shown in km/h (names and file names carry
    no unit then)."""
    present = [c for c, n in by_country.items() if n]
    if speed_unit == "kmh" or not present:
        return ""
    if speed_unit == "mph":
        return names_note(np.ones(1, dtype=bool))
    return names_note(np.array([c in MPH_COUNTRIES for c in present], dtype=bool))


def names_note(mph: np.ndarray) -> str:
    """What the names of an export say about units, from its cameras' ``MPH_COLUMN``: the
    empty string when every limit is in km/h (names and file names have no unit then)."""
    mph = np.asarray(mph, dtype=bool)
    if not mph.any():
        return ""
    if mph.all():
        return gettext("Speed limits in names, file names and speed-sign icons are in mph (for example "
                       "'Speed 30 mph A40').")
    return gettext("Speed limits in names, file names and speed-sign icons are in each country's unit: mph where "
                   "limits are posted in mph (for example 'Speed 30 mph A40', file names ending in 'mph'), km/h "
                   "elsewhere (a number without a unit).")


def selected_rows(cameras: CameraSet, options) -> np.ndarray:
    """Per camera of ``cameras``: whether ``common.select`` keeps it (mobile cameras only
    with the mobile option; France zones keep their country)."""
    if options.mobile:
        return np.ones(len(cameras), dtype=bool)
    return cameras["kind"] != Kind.MOBILE


class FileUnitSizes(SizeModel):
    """The size model of an export whose files carry one unit (``file_unit``) for the
    cameras of a subset: with "auto" the unit is that of most of the subset's cameras, so a
    subset whose majority differs from the whole set's is rendered (``fallback``) instead of
    answered by ``inner`` (the model built with the whole set's unit)."""

    def __init__(self, inner, cameras: CameraSet, options, unit: str, fallback):
        self.inner, self.unit, self.fallback = inner, unit, fallback
        self.mph = mph_countries(cameras["country"])
        self.kept = selected_rows(cameras, options)

    def sizes(self, mask=None):
        rows = self.kept if mask is None else self.kept & np.asarray(mask, dtype=bool)
        if majority_unit(self.mph[rows]) != self.unit:
            return self.fallback(mask)
        return self.inner.sizes(mask)


def file_unit_cameras(cams: CameraSet, options) -> tuple[CameraSet, str, np.ndarray]:
    """For a format with one unit per export (POI Loader's "@" numbers): (``cams`` with every
    camera in that unit, the unit, per camera whether its country posts limits in the other
    unit). ``cams`` are the selected cameras (``common.select`` with ``options``): with "auto"
    their countries were looked up there, and are not looked up again (``auto_mph``)."""
    if check_unit(options.speed_unit) == "auto":  # the countries once: the majority and the others
        in_mph = auto_mph(cams)
        unit = majority_unit(in_mph)
        other = in_mph != (unit == "mph")
    else:
        unit, other = options.speed_unit, np.zeros(len(cams), dtype=bool)
    return with_mph(cams, np.full(len(cams), unit == "mph", dtype=bool)), unit, other


POI_LOADER_UNITS = {"kmh": gettext_noop("'Metric' (kilometres per hour)"),
                    "mph": gettext_noop("'Statute' (miles per hour)")}


def at_speed_note(fmt: str, unit: str, other: int) -> str:
    """What the "@" numbers of a POI Loader file are in, and what to choose in POI Loader;
    ``other``: cameras from countries that post limits in the other unit (auto option)."""
    text = gettext("%(format)s: the speed limit after '@' in each name is in %(unit)s (for example "
                   "'Speed A7@%(example)s'): in POI Loader's 'Manual' mode choose %(choice)s units, as POI Loader "
                   "reads the number in the units chosen there.") % {
        "format": fmt, "unit": UNIT_LABELS[unit], "example": 70 if unit == "kmh" else 40,
        "choice": gettext(POI_LOADER_UNITS[unit])}
    if other:
        text += " " + ngettext(
            "POI Loader takes one unit for all files, so the %(count)s camera from countries that post "
            "limits in %(other_unit)s is given in %(unit)s too (the unit of most cameras in this package): a "
            "Garmin stores an alert speed as a speed (cm/s in the GPI file POI Loader writes), so it warns at "
            "the same limit whatever unit it displays.",
            "POI Loader takes one unit for all files, so the %(count)s cameras from countries that post "
            "limits in %(other_unit)s are given in %(unit)s too (the unit of most cameras in this package): a "
            "Garmin stores an alert speed as a speed (cm/s in the GPI file POI Loader writes), so it warns at "
            "the same limit whatever unit it displays.", other) % {
            "count": number(other), "other_unit": "km/h" if unit == "mph" else "mph", "unit": UNIT_LABELS[unit]}
    return text
