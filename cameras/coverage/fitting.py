"""Exact package sizes for a coverage, and the largest coverage that fits a device.

``Sizer`` answers "what will the package for this device, options and coverage hold?"
(every file with its POI count and byte size, and the limit warnings) from the plugin's
size model, without building anything: a few milliseconds per query once the model is
built for the release. ``propose_fit`` uses it to grow a customer's core countries into the
largest coverage that fits the device's known limits, or to say by how much the core is
over and what could be cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from exporters.base import ExportOptions
from exporters.common import select_index
from exporters.devices import Device
from exporters.package import Counts, check_options, package_sizes
from exporters.schema import CameraType

from cameras.coverage import CameraIndex, Coverage
from cameras.distance import EARTH_RADIUS_KM
from cameras.legal import install_notes

# Camera types a customer may agree to leave out when a coverage does not fit, least
# important first (the device still warns of speed, red-light and section cameras).
DROPPABLE_TYPES = (CameraType.OTHER, CameraType.BUS_LANE, CameraType.POLICE_CHECK, CameraType.DISTANCE,
                   CameraType.LEVEL_CROSSING, CameraType.TUNNEL, CameraType.DANGER_ZONE)
FIT_MAX_KM = 1500.0   # neighbours farther than this from the core are not proposed


@dataclass
class PackageSize:
    coverage: Coverage
    files: list[dict]          # every file of the package: name, category, count, bytes
    cameras: int               # cameras in the package
    pois: int                  # POIs over all files
    warnings: list[str]        # limits the package goes over
    by_country: dict[str, int]
    by_type: dict[str, int]
    max_pois: int | None
    max_file_bytes: int | None

    @property
    def fits(self) -> bool:
        return not self.warnings

    @property
    def largest_file(self) -> dict | None:
        data = [f for f in self.files if f["count"]]
        return max(data, key=lambda f: f["bytes"]) if data else None

    @property
    def pois_over(self) -> int:
        return max(0, self.pois - self.max_pois) if self.max_pois else 0

    @property
    def bytes_over(self) -> int:
        if not self.max_file_bytes:
            return 0
        return max([0] + [f["bytes"] - self.max_file_bytes for f in self.files])

    def as_dict(self) -> dict:
        return {"coverage": self.coverage.labels(), "cameras": self.cameras, "pois": self.pois, "files": self.files,
                "fits": self.fits, "warnings": self.warnings, "by_country": self.by_country,
                "by_type": self.by_type, "max_pois": self.max_pois, "max_file_bytes": self.max_file_bytes}


class Sizer:
    """Package sizes for one device and options over one release, for any coverage."""

    def __init__(self, index: CameraIndex, device: Device, options: ExportOptions, release: dict, model=None):
        check_options(device, options)
        self.index, self.device, self.options, self.release = index, device, options, release
        self.model = model if model is not None else device.exporter().size_model(index.cameras, options)
        selected, self.sel_index = select_index(index.cameras, options)
        self.sel_country = index.country_code[self.sel_index]
        slugs = {t.value: t.slug for t in CameraType}
        types, self.sel_type = np.unique(selected["type"], return_inverse=True)
        self.type_names = [slugs.get(int(t), str(int(t))) for t in types]

    def size(self, coverage: Coverage, mask: np.ndarray | None = None) -> PackageSize:
        mask = coverage.mask(self.index) if mask is None else mask
        sized = self.model.sizes(mask)
        m = mask[self.sel_index]
        by_country = np.bincount(self.sel_country[m], minlength=len(self.index.country_names))
        by_type = np.bincount(self.sel_type[m], minlength=len(self.type_names))
        counts = Counts(int(m.sum()), {c: int(n) for c, n in zip(self.index.country_names, by_country) if n},
                        {t: int(n) for t, n in zip(self.type_names, by_type) if n})
        files, manifest = package_sizes(sized, self.device, self.options, release=self.release,
                                        coverage=coverage.labels(), counts=counts, legal_notes=install_notes())
        d = self.device
        return PackageSize(coverage, files, counts.total, sized.pois, manifest["warnings"], counts.by_country,
                           counts.by_type, d.max_pois.value if d.max_pois else None,
                           d.max_file_bytes.value if d.max_file_bytes else None)


@dataclass
class Fit:
    size: PackageSize                                   # the proposal (or the core when nothing fits)
    fits: bool
    added: list[tuple[str, float, int]] = field(default_factory=list)   # (country, km from the core, cameras)
    dropped_types: list[str] = field(default_factory=list)
    dropped_mobile: bool = False
    options: ExportOptions | None = None
    cuts: list[str] = field(default_factory=list)       # what could be cut, when even the core does not fit

    def summary(self) -> list[str]:
        s = self.size
        lines = []
        if self.fits:
            lines.append(f"Proposed coverage: {s.coverage.describe()} ({s.pois:,} POIs) fits the device.")
            if self.added:
                lines.append("Added, nearest first: " + ", ".join(f"{c} ({km:.0f} km, {n:,})"
                                                                for c, km, n in self.added))
        else:
            lines.append(f"Even the core ({s.coverage.describe()}) does not fit the device:")
            lines += [f"  {w}" for w in s.warnings]
            if s.pois_over:
                lines.append(f"  It is {s.pois_over:,} POIs over the limit of {s.max_pois:,}.")
            if s.bytes_over:
                lines.append(f"  Its largest file is {s.bytes_over:,} bytes over the limit of {s.max_file_bytes:,}.")
            if self.cuts:
                lines.append("  What could be cut: " + "; ".join(self.cuts))
        if self.dropped_mobile:
            lines.append("Mobile cameras left out (allowed by the customer) to fit.")
        if self.dropped_types:
            lines.append("Camera types left out (allowed by the customer) to fit: " + ", ".join(self.dropped_types))
        return lines


def country_distances(index: CameraIndex, core: np.ndarray) -> dict[str, float]:
    """Per country with cameras outside the core: the distance (km) from its nearest camera
    to the nearest camera of the core. Measured on the cameras themselves, so overseas
    parts of a country's polygon without cameras do not make far countries neighbours."""
    from scipy.spatial import cKDTree

    def unit(mask):
        lat, lon = np.radians(index.lat[mask]), np.radians(index.lon[mask])
        return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])

    if not core.any():
        return {}
    outside = ~core
    chord, _ = cKDTree(unit(core)).query(unit(outside), k=1)
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))
    codes = index.country_code[outside]
    best = np.full(len(index.country_names), np.inf)
    np.minimum.at(best, codes, km)
    return {c: float(best[i]) for i, c in enumerate(index.country_names) if np.isfinite(best[i]) and c}


def cut_suggestions(size: PackageSize, mobile: int) -> list[str]:
    """The largest things in a package that could be left out, with their POI counts."""
    cuts = []
    if mobile:
        cuts.append(f"mobile cameras ({mobile:,})")
    by_type = sorted(size.by_type.items(), key=lambda kv: -kv[1])
    cuts += [f"type {t} ({n:,})" for t, n in by_type if t in {c.slug for c in DROPPABLE_TYPES}][:3]
    by_country = sorted(size.by_country.items(), key=lambda kv: -kv[1])
    cuts += [f"country {c} ({n:,})" for c, n in by_country[:3]] if len(by_country) > 1 else []
    return cuts


def propose_fit(sizer_for: Callable[[ExportOptions], Sizer], options: ExportOptions, core: Coverage, *,
                allow_drop_mobile: bool = False, allow_drop_types: bool = False,
                max_km: float = FIT_MAX_KM) -> Fit:
    """The largest coverage around ``core`` that fits the device.

    1. The core must fit. If it does not, leave out mobile cameras (when allowed), then the
       least important types one by one (when allowed); if it still does not fit, say by
       how much and what could be cut.
    2. Then add the other countries with cameras, nearest first (within ``max_km`` of the
       core), each one that still fits; a country that does not fit is skipped, a smaller one
       farther away may still fit.

    Every proposal is checked with the exact sizes, so a proposal never exceeds a limit."""
    sizer = sizer_for(options)
    index = sizer.index
    size = sizer.size(core)
    dropped_types: list[str] = []
    dropped_mobile = False
    if not size.fits and allow_drop_mobile and options.mobile:
        options = options.with_(mobile=False)
        sizer = sizer_for(options)
        size = sizer.size(core)
        dropped_mobile = True
    if not size.fits and allow_drop_types:
        for t in DROPPABLE_TYPES:
            if size.fits:
                break
            if size.by_type.get(t.slug):
                core = core.excluding([t])
                size = sizer.size(core)
                dropped_types.append(t.slug)
    if not size.fits:
        mobile = int((core.mask(index) & index.mobile).sum()) if options.mobile else 0
        return Fit(size, False, [], dropped_types, dropped_mobile, options, cut_suggestions(size, mobile))
    core_mask = core.mask(index)
    distances = country_distances(index, core_mask)
    counts = index.counts_by_country(~core_mask)
    added = []
    keep = ~np.isin(index.cameras["type"], sorted(core.exclude_types)) if core.exclude_types else True
    current, current_mask = core, core_mask
    for country, km in sorted(distances.items(), key=lambda kv: (kv[1], kv[0])):
        if km > max_km or country in current.countries:
            continue
        candidate = current.with_countries([country])
        mask = current_mask | (index.country_mask([country]) & keep)
        trial = sizer.size(candidate, mask)
        if trial.fits:
            current, current_mask, size = candidate, mask, trial
            added.append((country, km, counts.get(country, 0)))
    return Fit(size, True, added, dropped_types, dropped_mobile, options)
