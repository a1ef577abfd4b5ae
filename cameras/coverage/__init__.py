"""Coverage: which cameras of a release go into a package.

A coverage is a set of countries (ISO codes, from country codes and region slugs), plus
optional extras: route corridors (cameras within N km of a GPX track or route) and home
circles (cameras within N km of a point), minus optional camera types the customer agreed
to leave out. ``Coverage.mask(index)`` selects the cameras; coverages combine with ``|``
(union) and ``without`` (drop countries), and the mask of a union is the union of masks.

No Django here: the release comes in as an ``exporters.base.CameraSet`` wrapped in a
``CameraIndex`` (built once per release: per-camera country numbers, so a country mask is
one table lookup).

Distances: a corridor is computed with shapely in a metric projection, an azimuthal
equidistant one centred on the route (distances from the centre are exact; a 1,000 km
route is within 0.2 % elsewhere). Cameras near the route's bounding box are projected, the
route is cut into segments in an STRtree and queried with ``dwithin``. A home circle uses
the haversine distance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Iterable

import numpy as np

from exporters.base import CameraSet
from exporters.i18n import gettext
from exporters.schema import CameraType, Kind

from cameras import regions
from cameras.coverage.errors import CoverageError
from cameras.coverage.routes import Route, corridor_mask, read_gpx_route
from cameras.distance import haversine_km

__all__ = ["CameraIndex", "Circle", "Corridor", "Coverage", "CoverageError", "Route", "read_gpx_route"]


MAX_CORRIDOR_KM = 50.0
MAX_RADIUS_KM = 1000.0


# ---------------------------------------------------------------------------------------
# Distances


# ---------------------------------------------------------------------------------------
# The coverage


@dataclass(frozen=True)
class Corridor:
    route: Route
    km: float

    def label(self) -> str:
        return f"route:{self.route.sha256[:12]}+{self.km:g}km"


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    km: float

    def label(self) -> str:
        return f"home:{self.lat:.4f},{self.lon:.4f}+{self.km:g}km"


TYPE_SLUGS = {t.slug: t for t in CameraType}


@dataclass(frozen=True)
class Coverage:
    """Countries (ISO codes) + corridors + circles, minus excluded types."""

    countries: frozenset[str] = frozenset()
    codes: tuple[str, ...] = ()                 # as the customer chose them (countries and regions), sorted
    corridors: tuple[Corridor, ...] = ()
    circles: tuple[Circle, ...] = ()
    exclude_types: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, codes: Iterable[str] | str = (), *, route: Route | None = None, corridor_km: float = 5.0,
              home: tuple[float, float] | None = None, radius_km: float = 0.0,
              exclude_types: Iterable[str] = ()) -> "Coverage":
        """From country codes and region slugs (unknown ones raise, naming close matches) and extras."""
        if isinstance(codes, str):
            codes = [c for c in re.split(r"[\s,;]+", codes) if c]
        codes = [c.strip() for c in codes if c.strip()]
        try:
            countries = regions.expand(codes)
        except ValueError as exc:
            raise CoverageError(str(exc)) from None
        normal = tuple(sorted({c.lower() if c.lower() in regions.REGIONS else c.upper() for c in codes}))
        corridors: tuple[Corridor, ...] = ()
        if route is not None:
            if not 0 < corridor_km <= MAX_CORRIDOR_KM:
                raise CoverageError(gettext("corridor width %(width)s km is outside 0-%(max)s km")
                                    % {"width": f"{corridor_km:g}", "max": f"{MAX_CORRIDOR_KM:g}"})
            corridors = (Corridor(route, float(corridor_km)),)
        circles: tuple[Circle, ...] = ()
        if home is not None:
            lat, lon = home
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise CoverageError(gettext("home point %(lat)s,%(lon)s is not a latitude,longitude pair")
                                    % {"lat": lat, "lon": lon})
            if not 0 < radius_km <= MAX_RADIUS_KM:
                raise CoverageError(gettext("radius %(radius)s km is outside 0-%(max)s km")
                                    % {"radius": f"{radius_km:g}", "max": f"{MAX_RADIUS_KM:g}"})
            circles = (Circle(float(lat), float(lon), float(radius_km)),)
        excluded = set()
        for slug in exclude_types:
            if slug not in TYPE_SLUGS:
                import difflib

                close = difflib.get_close_matches(slug, list(TYPE_SLUGS), n=3)
                if close:
                    raise CoverageError(gettext("unknown camera type %(type)s; did you mean %(close)s?")
                                        % {"type": repr(slug), "close": ", ".join(close)})
                raise CoverageError(gettext("unknown camera type %(type)s; valid: %(valid)s")
                                    % {"type": repr(slug), "valid": ", ".join(TYPE_SLUGS)})
            excluded.add(int(TYPE_SLUGS[slug]))
        if not countries and not corridors and not circles:
            raise CoverageError(gettext("the coverage is empty: give countries or regions (e.g. FR,BE or "
                                        "western-europe), a route or a home point"))
        return cls(countries, normal, corridors, circles, frozenset(excluded))

    # set operations -------------------------------------------------------------------
    def __or__(self, other: "Coverage") -> "Coverage":
        if self.exclude_types != other.exclude_types:
            raise CoverageError(gettext("cannot join coverages that leave out different camera types"))
        return Coverage(self.countries | other.countries, tuple(sorted(set(self.codes) | set(other.codes))),
                        tuple(dict.fromkeys(self.corridors + other.corridors)),
                        tuple(dict.fromkeys(self.circles + other.circles)), self.exclude_types)

    def with_countries(self, countries: Iterable[str]) -> "Coverage":
        """More countries (ISO codes), listed by code."""
        added = frozenset(c.upper() for c in countries)
        return replace(self, countries=self.countries | added, codes=tuple(sorted(set(self.codes) | added)))

    def without(self, countries: Iterable[str]) -> "Coverage":
        """Fewer countries: the named ones leave the country part (regions are spelled out)."""
        drop = regions.expand(list(countries))
        kept = self.countries - drop
        codes = set(self.codes)
        if any(c in regions.REGIONS and set(regions.REGIONS[c].countries) & drop for c in codes):
            codes = set(kept)
        return replace(self, countries=kept, codes=tuple(sorted(codes - drop)))

    def excluding(self, types: Iterable[int]) -> "Coverage":
        return replace(self, exclude_types=self.exclude_types | frozenset(int(t) for t in types))

    # what it means --------------------------------------------------------------------
    def labels(self) -> list[str]:
        """What the manifest and the cache key say about this coverage."""
        out = list(self.codes) or []
        out += [c.label() for c in self.corridors] + [c.label() for c in self.circles]
        out += [f"-{CameraType(t).slug}" for t in sorted(self.exclude_types)]
        return out

    def describe(self) -> str:
        return ", ".join(self.labels())

    def mask(self, index: "CameraIndex") -> np.ndarray:
        out = index.country_mask(self.countries)
        for c in self.corridors:
            out |= index.corridor_mask(c.route, c.km)  # read-only cached mask: combined into ``out``
        for c in self.circles:
            out |= haversine_km(index.lat, index.lon, c.lat, c.lon) <= c.km
        if self.exclude_types:
            out &= ~np.isin(index.cameras["type"], sorted(self.exclude_types))
        return out


class CameraIndex:
    """A release's cameras with what coverage queries need, computed once."""

    def __init__(self, cameras: CameraSet):
        self.cameras = cameras
        self.lat = cameras["lat"].astype(np.float64)
        self.lon = cameras["lon"].astype(np.float64)
        names, self.country_code = np.unique(cameras["country"].astype(str), return_inverse=True)
        self.country_names = [str(n) for n in names]
        self._country_pos = {c: i for i, c in enumerate(self.country_names)}
        self.mobile = cameras["kind"] == Kind.MOBILE
        self._corridors: dict[tuple[str, float], np.ndarray] = {}

    def __len__(self):
        return len(self.cameras)

    def country_mask(self, countries: Iterable[str]) -> np.ndarray:
        lut = np.zeros(len(self.country_names) + 1, dtype=bool)
        for c in countries:
            pos = self._country_pos.get(c)
            if pos is not None:
                lut[pos] = True
        return lut[self.country_code]

    def corridor_mask(self, route: Route, km: float) -> np.ndarray:
        """Cached per (route, width): a customer trimming a coverage keeps the same route while
        countries come and go, so only the first query pays for the corridor."""
        key = (route.sha256, float(km))
        mask = self._corridors.get(key)
        if mask is None:
            mask = corridor_mask(self.lat, self.lon, route, km)
            mask.flags.writeable = False
            self._corridors[key] = mask
            while len(self._corridors) > 8:
                self._corridors.pop(next(iter(self._corridors)))
        return mask

    def counts_by_country(self, mask: np.ndarray | None = None) -> dict[str, int]:
        codes = self.country_code if mask is None else self.country_code[mask]
        counts = np.bincount(codes, minlength=len(self.country_names))
        return {c: int(n) for c, n in zip(self.country_names, counts) if n}

    def countries_present(self) -> list[str]:
        return [c for c in self.country_names if c]
