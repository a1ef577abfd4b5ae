"""Exporter plugin contract: a columnar camera set in, files out.

A plugin subclasses ``Exporter``, sets its class attributes and implements ``render``, a
pure function of (camera set, options) -> list of ``OutputFile``: no ORM, no network, no
clock, deterministic order, byte-identical output for the same input. ``@register`` adds
it to the registry; a duplicate identifier is an error at import time.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from .schema import SNAPSHOT_COLUMNS, CameraType, DirectionMode, Kind


class ExportError(Exception):
    """A camera set or option this export cannot represent; the message says what and how to fix."""


# ---------------------------------------------------------------------------------------
# The camera set


class CameraSet:
    """Columns of equal length (numpy arrays), named as in ``schema.SNAPSHOT_COLUMNS``."""

    __slots__ = ("columns",)

    def __init__(self, columns: dict[str, np.ndarray]):
        missing = [name for name in SNAPSHOT_COLUMNS if name not in columns]
        if missing:
            raise ExportError(f"camera set lacks columns: {', '.join(missing)}")
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ExportError(f"camera set columns differ in length: {sorted(lengths)}")
        self.columns = columns

    @classmethod
    def from_arrow(cls, table) -> "CameraSet":
        cols = {}
        for name, dtype in SNAPSHOT_COLUMNS.items():
            col = table.column(name)
            if dtype == "str":
                cols[name] = np.asarray(col.to_pylist(), dtype=object)
            else:
                cols[name] = col.to_numpy().astype(dtype, copy=False)
        return cls(cols)

    @classmethod
    def from_records(cls, rows: list[dict]) -> "CameraSet":
        """Small sets from dicts (tests, fixtures); missing fields take neutral defaults."""
        defaults = {"kind": Kind.FIXED, "type": CameraType.SPEED, "speed": 0, "truck_speed": 0,
                    "heading": np.nan, "dir_mode": DirectionMode.ALL, "country": "", "road": "",
                    "description": "", "reports": 0, "end_lat": np.nan, "end_lon": np.nan}
        cols = {}
        for name, dtype in SNAPSHOT_COLUMNS.items():
            values = [row.get(name, defaults.get(name, i + 1 if name == "id" else None)) for i, row in enumerate(rows)]
            cols[name] = np.asarray(values, dtype=object if dtype == "str" else dtype)
        return cls(cols)

    def __len__(self):
        return len(self.columns["id"])

    def __getitem__(self, name) -> np.ndarray:
        return self.columns[name]

    def take(self, index) -> "CameraSet":
        """Rows selected by a boolean mask or an index array."""
        return CameraSet({k: v[index] for k, v in self.columns.items()})

    def sorted(self) -> "CameraSet":
        """Deterministic order: by id."""
        order = np.argsort(self.columns["id"], kind="stable")
        return self.take(order)


# ---------------------------------------------------------------------------------------
# Options and output


ICON_SETS = ("speed", "fr-danger")


@dataclass(frozen=True)
class ExportOptions:
    """Plain values only, so an export can be described in a task message or a cache key."""

    mobile: bool = False           # include mobile cameras and zones
    icons: str = "speed"           # icon set: "speed" (speed-limit signs) or "fr-danger" (France)
    fr_danger_zones: bool = False  # cameras in France as danger zones instead of exact positions
    proximity_m: int = 300         # alert distance where the format carries one

    def __post_init__(self):
        if self.icons not in ICON_SETS:
            raise ExportError(f"unknown icon set {self.icons!r}; valid: {', '.join(ICON_SETS)}")
        if not 0 < int(self.proximity_m) <= 5000:
            raise ExportError(f"proximity {self.proximity_m} m is outside 1-5000 m")

    def key(self) -> dict:
        return {"mobile": self.mobile, "icons": self.icons, "fr_danger_zones": self.fr_danger_zones,
                "proximity_m": int(self.proximity_m)}

    def with_(self, **changes) -> "ExportOptions":
        return replace(self, **changes)


@dataclass
class OutputFile:
    name: str                      # path inside the package, e.g. "fixed/Speed_50.ov2"
    data: bytes
    category: str = ""             # category slug (for the manifest)
    count: int = 0                 # cameras (POIs) in this file; 0 for companion files


@dataclass
class RenderResult:
    files: list[OutputFile]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> number of cameras left out
    notes: list[str] = field(default_factory=list)          # what the customer should know


# ---------------------------------------------------------------------------------------
# Plugins


class Exporter:
    identifier: ClassVar[str] = ""
    verbose_name: ClassVar[str] = ""
    file_extension: ClassVar[str] = ""
    encoding: ClassVar[str] = "utf-8"
    max_name_length: ClassVar[int | None] = None
    direction_aware: ClassVar[bool] = False   # the format carries the heading of the enforced traffic
    speed_carried_as: ClassVar[str] = "field"  # "field", "name" or "file" (category per speed)
    mobile_supported: ClassVar[bool] = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        raise NotImplementedError


REGISTRY: dict[str, type[Exporter]] = {}


def register(cls: type[Exporter]) -> type[Exporter]:
    if not cls.identifier:
        raise TypeError(f"{cls.__name__} has no identifier")
    if cls.identifier in REGISTRY and REGISTRY[cls.identifier] is not cls:
        raise ValueError(f"duplicate exporter identifier {cls.identifier!r}: "
                         f"{REGISTRY[cls.identifier].__name__} and {cls.__name__}")
    REGISTRY[cls.identifier] = cls
    return cls


def load_plugins() -> dict[str, type[Exporter]]:
    from . import plugins

    for info in pkgutil.iter_modules(plugins.__path__):
        importlib.import_module(f"{plugins.__name__}.{info.name}")
    return REGISTRY


def get_exporter(identifier: str) -> Exporter:
    load_plugins()
    try:
        return REGISTRY[identifier]()
    except KeyError:
        raise ExportError(f"unknown format {identifier!r}; valid: {', '.join(sorted(REGISTRY))}") from None
