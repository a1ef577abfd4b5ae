"""One import's reading options, and speed units; shared by the readers, not a reader.

``session`` sets, for the reads inside it, the column mapping (``--map`` or the one stored
on the source) and the speed unit (``--speed-unit kmh|mph|auto``); the readers take them
with ``SESSION.get()`` and leave what they applied (mapping, unit, warnings) in the
``Session`` for the caller to show and store. ``in_mph_country`` says which positions lie
in countries that post limits in mph; ``looks_like_mph`` whether bare numbers look like mph
limits; ``unit_warning`` says when speeds look like the other unit; ``file_unit`` decides a
file's unit from all of these; ``export_unit`` the one unit of a file the project exported and ``posted_kmh`` the km/h
limits its mph numbers were written from;
``row_units`` the unit of each row of a file whose positions
lie in mph and km/h countries alike (a map of a trip through the UK and France).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np

from cameras.geo import assign_countries

from .mapping import Mapping

MPH = 1.609344
UNIT_SAMPLE = 5000  # positions looked at to tell a file's countries


@dataclass
class Session:
    """Options for the reads inside ``session()`` and what the last read used."""

    mapping: Mapping | None = None     # from --map or stored on the source; None = infer
    speed_unit: str | None = None      # --speed-unit, overrides the mapping's unit
    used: Mapping | None = None        # the mapping the last read applied
    unit: str = ""                     # the speed unit it applied (kmh or mph)
    warnings: list[str] = field(default_factory=list)


SESSION: ContextVar[Session | None] = ContextVar("table_session", default=None)


@contextmanager
def session(mapping: Mapping | None = None, speed_unit: str | None = None):
    """Read tables with ``mapping`` and ``speed_unit``; yields the ``Session``."""
    state = Session(mapping=mapping, speed_unit=speed_unit)
    token = SESSION.set(state)
    try:
        yield state
    finally:
        SESSION.reset(token)


# Countries that post limits in mph (ISO 3166 alpha-2; UK as an alias of GB).
MPH_COUNTRIES = frozenset({"GB", "UK", "US", "LR", "BS", "BZ", "KY", "FK", "PR", "VI", "VG", "GU", "MP", "AS",
                           "WS", "AG", "KN", "MS", "DM", "LC", "VC", "GD", "AI", "TC", "SH", "JE", "GG", "IM"})


def in_mph_country(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Whether each position lies in a country that posts limits in mph (Natural Earth
    borders, as the importer assigns countries; not boxes, which would take in Canada)."""
    return np.isin(assign_countries(lat, lon), list(MPH_COUNTRIES))


def unit_warning(speeds: np.ndarray, unit: str) -> str:
    given = speeds[~np.isnan(speeds)]
    if len(given) < 3:
        return ""
    if unit == "kmh" and np.all(given % 5 == 0) and given.min() >= 20 and given.max() <= 70 and (
            np.any(given % 10 == 5)):
        return ("the speeds look like mph (all multiples of 5 between 20 and 70, some ending in 5) but are "
                "read as km/h; pass --speed-unit mph if they are mph")
    if unit == "mph" and given.max() > 85:
        return (f"the speeds look like km/h (up to {given.max():g}) but are read as mph; pass --speed-unit kmh "
                f"if they are km/h")
    return ""


def looks_like_mph(speeds) -> bool:
    """Whether bare speed numbers look like posted mph limits: (nearly) all multiples of 5 up
    to 85. Limits converted to km/h (32, 48, 64, 97, 113 for 20-70 mph) are not."""
    given = np.asarray(speeds, dtype=float)
    given = given[~np.isnan(given) & (given > 0)]
    if not len(given):
        return True
    mph_like = (given % 5 == 0) & (given <= 85)
    return bool(mph_like.mean() >= 0.9)


def _in_mph(lat, lon, countries) -> np.ndarray:
    if countries is not None:
        return np.array([str(c).upper() in MPH_COUNTRIES for c in countries], dtype=bool)
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    inside = np.zeros(len(lat), dtype=bool)
    ok = ~np.isnan(lat) & ~np.isnan(lon)
    inside[ok] = in_mph_country(lat[ok], lon[ok])
    return inside


def file_unit(requested: str, speeds: np.ndarray, lat: np.ndarray, lon: np.ndarray,
              countries=None) -> tuple[str, str]:
    """The unit (``kmh`` or ``mph``) of a file's bare speed numbers, and a warning or "".

    ``requested`` is ``kmh``, ``mph`` or ``auto``. ``auto`` is mph when most positions lie in
    countries that post limits in mph (``countries``: ISO codes per row, when the file gives
    them; else the positions) and the speeds there look like mph (``looks_like_mph``): a UK
    list of 20-70 is mph, a UK list written in km/h (48, 64, 97, 113) stays km/h, with a
    warning. The warning also says when km/h numbers look like mph, or mph numbers like km/h.
    ``speeds`` are the numbers without a unit of their own (NaN where none is given); when
    they are one per position, only those in mph countries are looked at.
    """
    if requested != "auto":
        return requested, ""
    speeds = np.asarray(speeds, dtype=float)
    rows = len(lat) if countries is None else len(countries)
    if rows > UNIT_SAMPLE:  # an even sample of the positions tells the countries well enough
        pick = np.linspace(0, rows - 1, UNIT_SAMPLE).astype(int)
        if len(speeds) == rows:
            speeds = speeds[pick]
        if countries is None:
            lat, lon = np.asarray(lat, dtype=float)[pick], np.asarray(lon, dtype=float)[pick]
        else:
            countries = [countries[i] for i in pick]
    return _decided(speeds, _in_mph(lat, lon, countries))


def _decided(speeds: np.ndarray, in_mph: np.ndarray) -> tuple[str, str]:
    """``file_unit``'s decision from the rows' speeds and whether each row is in an mph country."""
    if not len(in_mph) or in_mph.mean() <= 0.5:
        return "kmh", unit_warning(speeds, "kmh")
    local = speeds[in_mph] if len(speeds) == len(in_mph) else speeds
    if looks_like_mph(local):
        return "mph", unit_warning(speeds, "mph")
    given = local[~np.isnan(local) & (local > 0)]
    odd = [f"{v:g}" for v in sorted(set(given[(given % 5 != 0) | (given > 85)].tolist()))[:5]]
    return "kmh", (f"most positions lie in countries that post limits in mph, but the speeds look like km/h "
                   f"(values such as {', '.join(odd)}), so they are read as km/h; pass --speed-unit mph "
                   f"if they are mph")


def export_unit(speeds: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> str:
    """The unit (``kmh`` or ``mph``) of the bare speed numbers of a file the project exported.

    Such a file has one unit, chosen by the export (each camera's country's, the package's
    majority, or the buyer's), and nothing in it says which. Limits are posted in multiples
    of 5 in each country's unit: the unit under which more numbers read back as such limits
    wins (a US 30 mph camera written as 48 is km/h, written as 30 is mph; a French 50 km/h
    camera written as 31 is mph). A tie is decided as ``file_unit`` decides.
    """
    speeds = np.asarray(speeds, dtype=float)
    given = np.nonzero(~np.isnan(speeds))[0]
    if not len(given):
        return "kmh"
    if len(given) > UNIT_SAMPLE:
        given = given[np.linspace(0, len(given) - 1, UNIT_SAMPLE).astype(int)]
    numbers = speeds[given]
    in_mph = _in_mph(np.asarray(lat, dtype=float)[given], np.asarray(lon, dtype=float)[given], None)

    def posted(factor: float) -> int:
        """How many numbers, read in a unit ``factor`` km/h long, are a multiple of 5 in
        their country's unit, as the export wrote it (rounded to a whole number)."""
        local = np.where(in_mph, MPH, 1.0) / factor   # the country's unit, in the file's
        limit = np.rint(numbers / local / 5) * 5
        return int(np.count_nonzero(np.rint(limit * local) == numbers))

    as_kmh, as_mph = posted(1.0), posted(MPH)
    if as_kmh != as_mph:
        return "kmh" if as_kmh > as_mph else "mph"
    return _decided(numbers, in_mph)[0]


def posted_kmh(mph: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """km/h for whole mph numbers the project wrote from km/h values (``round(kmh / MPH)``).

    Outside mph countries limits are posted in km/h, in multiples of 5: the one such limit
    that rounds to the number is the value it was written from (70 km/h is written 43 mph,
    which is 69 km/h). Elsewhere, and where no multiple of 5 fits, ``round(mph * MPH)``.
    """
    mph = np.asarray(mph, dtype=float)
    kmh = np.rint(mph * MPH)
    limit = np.rint(mph * MPH / 5) * 5
    fits = np.rint(limit / MPH) == mph
    if fits.any():
        fits &= ~_in_mph(lat, lon, None)
    return np.where(fits, limit, kmh).astype(int)


def row_units(requested: str, speeds: np.ndarray, lat: np.ndarray, lon: np.ndarray,
              countries=None) -> tuple[np.ndarray, str, str]:
    """Whether each row's bare speed number is mph, the unit in words, and a warning or "".

    ``speeds`` holds one number per row (NaN where the row has no bare number). A file whose
    rows with speeds all lie in mph countries, or none of them, has one unit (``file_unit``).
    In ``auto`` mode a file with rows in both has two: the rows in mph countries are mph when
    their numbers look like mph limits, the others km/h.
    """
    speeds = np.asarray(speeds, dtype=float)
    rows = len(speeds)
    if requested != "auto":
        return np.full(rows, requested == "mph"), requested, ""
    given = np.nonzero(~np.isnan(speeds))[0]
    if not len(given):  # no bare number: the unit only names what the file's positions use
        unit, warning = file_unit(requested, speeds, lat, lon, countries)
        return np.full(rows, unit == "mph"), unit, warning
    pick = given if len(given) <= UNIT_SAMPLE else given[np.linspace(0, len(given) - 1, UNIT_SAMPLE).astype(int)]
    sample = _in_mph(np.asarray(lat, dtype=float)[pick], np.asarray(lon, dtype=float)[pick],
                     None if countries is None else [countries[i] for i in pick])
    if not sample.any() or sample.all():
        unit, warning = _decided(speeds[pick], sample)
        return np.full(rows, unit == "mph"), unit, warning
    mph = np.zeros(rows, dtype=bool)
    if looks_like_mph(speeds[pick][sample]):  # then each row's country decides
        if len(pick) == len(given):
            inside = given[sample]
        else:
            inside = given[_in_mph(np.asarray(lat, dtype=float)[given], np.asarray(lon, dtype=float)[given],
                                   None if countries is None else [countries[i] for i in given])]
        if looks_like_mph(speeds[inside]):
            mph[inside] = True
            return mph, "mph in mph countries, km/h elsewhere", ""
    share = f"{int(sample.sum())} of {len(pick)}" + (" sampled" if len(pick) < len(given) else "")
    return mph, "kmh", (f"{share} speeds lie in countries that post limits in mph, but they look like km/h, so "
                        f"they are read as km/h; pass --speed-unit mph if they are mph")
