"""Exporter plugin contract: a columnar camera set in, files out.

A plugin subclasses ``Exporter``, sets its class attributes and implements ``render``, a
pure function of (camera set, options) -> list of ``OutputFile``: no ORM, no network, no
clock, deterministic order, byte-identical output for the same input. ``@register`` adds
it to the registry; a duplicate identifier is an error at import time.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pkgutil
import shutil
import tempfile
from pathlib import Path
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Callable, ClassVar

import numpy as np

from .i18n import DEFAULT_LANGUAGE, LANGUAGES, gettext, gettext_noop, number
from .schema import SNAPSHOT_COLUMNS, CameraType, DirectionMode, Kind
from .textrows import OutputBuffer


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
        return cls({name: column_from_arrow(table.column(name), dtype) for name, dtype in SNAPSHOT_COLUMNS.items()})

    @classmethod
    def from_column_reader(cls, read_column) -> "CameraSet":
        """Built one column at a time: ``read_column(name)`` gives that Arrow column, which is
        converted and dropped before the next is read (a million cameras never exist twice)."""
        return cls({name: column_from_arrow(read_column(name), dtype) for name, dtype in SNAPSHOT_COLUMNS.items()})

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
        """Deterministic order: by id. A set already in id order is returned as it is (no
        copy of the columns: a million cameras are about 80 MB), so do not change the result
        in place."""
        ids = self.columns["id"]
        if len(ids) < 2 or bool(np.all(ids[1:] >= ids[:-1])):
            return self  # the stable argsort would be the identity
        order = np.argsort(ids, kind="stable")
        return self.take(order)


def column_from_arrow(col, dtype: str) -> np.ndarray:
    if dtype == "str":
        return _object_column(col)
    return np.array(col.to_numpy(), dtype=dtype)  # a copy: owns its memory, the Arrow buffer can go


def _object_column(col, step: int = 65536) -> np.ndarray:
    """A text column of an Arrow table as an object array, the values of ``col.to_pylist()``
    with one ``str`` per distinct value. Countries, roads and descriptions repeat a lot: a
    million cameras then take tens of MB instead of a str per row (a few hundred MB). Read
    ``step`` rows at a time, so the per-row strings never all exist at once."""
    out = np.empty(len(col), dtype=object)
    seen: dict = {}
    for start in range(0, len(col), step):
        values = col.slice(start, step).to_pylist()
        out[start:start + len(values)] = list(map(seen.setdefault, values, values))
    return out


# ---------------------------------------------------------------------------------------
# Options and output


# The icon sets, with what the shop and the panel call them; ICON_SETS: the values.
# The danger icon set changes pictures only; what French law requires is the danger-zone mode
# (ExportOptions.fr_danger_zones), so its label does not claim the law.
# The labels are English, marked for the catalog: translate them where shown, gettext(label).
ICON_SET_CHOICES = (("speed", gettext_noop("speed-limit signs")),
                    ("fr-danger", gettext_noop("danger signs instead of speed-limit signs")))
ICON_SETS = tuple(value for value, _label in ICON_SET_CHOICES)


# Alert distance (metres) by the camera's speed limit, where a format carries one (Garmin GPI
# and GPX ``gpxx:Proximity``): the distance grows with the limit so that a driver at the
# limit gets at least 20 s of warning up to 180 km/h (300 m at 50 km/h: 21.6 s, at 30 km/h:
# 36 s; 500 m at 90: 20 s; 800 m at 110: 26.2 s; 1,000 m at 130: 27.7 s). A camera whose
# limit is unknown gets 500 m (36 s at 50 km/h, 20 s at 90, 13.8 s at 130): a fixed 300 m
# gave 8.3 s at 130. ``ExportOptions(proximity_m=N)`` gives every camera N metres instead.
PROXIMITY_STEPS = ((50, 300), (90, 500), (110, 800))   # (limit up to, km/h; metres)
PROXIMITY_ABOVE = 1000                                  # metres above the last step
PROXIMITY_UNKNOWN = 500                                 # metres when the limit is unknown (0)
MAX_PROXIMITY_M = 5000
SPEED_UNITS = ("auto", "kmh", "mph")  # ExportOptions.speed_unit


def proximity_by_limit(speed_kmh) -> np.ndarray:
    """Alert distance in metres per camera from its limit in km/h (0 = unknown), by
    ``PROXIMITY_STEPS``."""
    speed = np.asarray(speed_kmh, dtype=np.int64)
    limits = np.array([limit for limit, _ in PROXIMITY_STEPS], dtype=np.int64)
    metres = np.array([m for _, m in PROXIMITY_STEPS] + [PROXIMITY_ABOVE], dtype=np.int64)
    out = metres[np.searchsorted(limits, speed, side="left")]
    return np.where(speed > 0, out, PROXIMITY_UNKNOWN)


def proximity_rule_text() -> str:
    """The scaled rule in words (for notes and install guides)."""
    steps = ", ".join(gettext("%(distance)s m up to %(limit)s km/h") % {"distance": number(m), "limit": limit}
                      for limit, m in PROXIMITY_STEPS)
    return gettext("%(steps)s, %(above)s m above %(last)s km/h (at least 20 seconds of warning when driving at the "
                   "limit, up to 180 km/h), and %(unknown)s m when the limit is unknown") % {
        "steps": steps, "above": number(PROXIMITY_ABOVE), "last": PROXIMITY_STEPS[-1][0],
        "unknown": number(PROXIMITY_UNKNOWN)}


@dataclass(frozen=True)
class ExportOptions:
    """Plain values only, so an export can be described in a task message or a cache key."""

    mobile: bool = False           # include mobile cameras and zones
    icons: str = "speed"           # icon set: "speed" (speed-limit signs) or "fr-danger" (France)
    fr_danger_zones: bool = False  # cameras in France as danger zones instead of exact positions
    # speed unit of names, file names, icons and formats that let the file choose:
    # "auto" = the unit of each camera's country (mph in GB, US...), "kmh" or "mph" for all
    speed_unit: str = "auto"
    # alert distance where the format carries one: None = by the speed limit of each camera
    # (``proximity_by_limit``), a number = that many metres for every camera
    proximity_m: int | None = None
    # An existing directory where plugins write their large files in chunks (``OutputFile.path``)
    # instead of returning them in memory. It changes where the bytes are, never what they
    # are: it is not part of ``key()`` and is ignored by equality and hashing.
    spool_dir: str | None = field(default=None, compare=False)
    # the language of the texts for the customer (INSTALL.txt, the manifest's notes and
    # warnings), one of ``i18n.LANGUAGES``; the data files do not change with it
    language: str = DEFAULT_LANGUAGE

    def __post_init__(self):
        if self.icons not in ICON_SETS:
            raise ExportError(gettext("unknown icon set %(value)s; valid: %(valid)s")
                              % {"value": repr(self.icons), "valid": ", ".join(ICON_SETS)})
        if self.speed_unit not in SPEED_UNITS:
            raise ExportError(gettext("unknown speed unit %(value)s; valid: %(valid)s")
                              % {"value": repr(self.speed_unit), "valid": ", ".join(SPEED_UNITS)})
        if self.language not in LANGUAGES:
            raise ExportError(gettext("unknown language %(value)s; valid: %(valid)s")
                              % {"value": repr(self.language), "valid": ", ".join(LANGUAGES)})
        if self.proximity_m is not None:
            if isinstance(self.proximity_m, bool) or int(self.proximity_m) != self.proximity_m:
                raise ExportError(gettext("proximity %(value)s is not a whole number of metres")
                                  % {"value": repr(self.proximity_m)})
            if not 0 < int(self.proximity_m) <= MAX_PROXIMITY_M:
                raise ExportError(gettext("proximity %(value)s m is outside 1-%(max)s m")
                                  % {"value": self.proximity_m, "max": MAX_PROXIMITY_M})
            object.__setattr__(self, "proximity_m", int(self.proximity_m))
        if self.spool_dir is not None and not os.path.isdir(self.spool_dir):
            raise ExportError(f"spool directory {os.fspath(self.spool_dir)!r} does not exist")

    def key(self) -> dict:
        key = {"mobile": self.mobile, "icons": self.icons, "fr_danger_zones": self.fr_danger_zones,
               "proximity_m": self.proximity_m, "speed_unit": self.speed_unit}
        if self.language != DEFAULT_LANGUAGE:  # English keys (and cache keys, golden files) as before
            key["language"] = self.language
        return key

    def proximity_for(self, speed_kmh, zone_m=None) -> np.ndarray:
        """Alert distance in metres per camera with these limits (km/h, 0 = unknown). With
        ``zone_m`` (per camera, the length of its France danger zone, 0 = not a zone: see
        ``exporters.france``) a zone's distance is its length, which from the zone's point
        covers the whole zone, or the option's distance if that is longer."""
        if self.proximity_m is None:
            out = proximity_by_limit(speed_kmh)
        else:
            out = np.full(np.shape(speed_kmh), self.proximity_m, dtype=np.int64)
        if zone_m is not None:
            zone = np.asarray(zone_m, dtype=np.int64)
            out = np.where(zone > 0, np.maximum(zone, self.proximity_m or 0), out)
        return out

    def proximity_text(self) -> str:
        """How far ahead cameras alert, in words: "at 450 m" or the scaled rule (a phrase the
        notes put in their sentences, ``%(proximity)s``), in the active language."""
        if self.proximity_m is None:
            values = {"rule": proximity_rule_text()}
            if self.fr_danger_zones:
                return gettext("at a distance set by its speed limit: %(rule)s; a France danger zone at its length "
                               "(300 m to 4 km, or a section's), which covers the whole zone") % values
            return gettext("at a distance set by its speed limit: %(rule)s") % values
        values = {"distance": number(self.proximity_m)}
        if self.fr_danger_zones:
            return gettext("at %(distance)s m; a France danger zone at its length (300 m to 4 km, or a section's), "
                           "which covers the whole zone") % values
        return gettext("at %(distance)s m") % values

    def with_(self, **changes) -> "ExportOptions":
        return replace(self, **changes)


COPY_CHUNK = 1 << 20  # bytes per read when a spooled file is hashed or copied


@dataclass
class OutputFile:
    """A file of the export: its bytes in memory (``data``) or, for a spooled export, in a
    file already written on disk (``path``, inside ``ExportOptions.spool_dir``); exactly
    one of the two. ``size``, ``sha256``, ``read_bytes()`` and ``open()`` work for both."""

    name: str                      # path inside the package, e.g. "fixed/Speed_50.ov2"
    data: bytes | None = None      # the bytes, or None when they are in ``path``
    category: str = ""             # category slug (for the manifest)
    count: int = 0                 # cameras (POIs) in this file; 0 for companion files
    path: str | None = None        # a spooled file holding the bytes (the writer may give ``digest``)
    digest: str | None = field(default=None, repr=False, compare=False)  # sha256 hex, when known

    def __post_init__(self):
        if (self.data is None) == (self.path is None):
            raise ValueError(f"output file {self.name!r} needs either data or a path, not "
                             f"{'both' if self.data is not None else 'neither'}")

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else os.path.getsize(self.path)

    @property
    def sha256(self) -> str:
        """Hex digest of the bytes (a spooled file is read in chunks, once; then cached)."""
        if self.digest is None:
            digest = hashlib.sha256()
            if self.data is not None:
                digest.update(self.data)
            else:
                with open(self.path, "rb") as fh:
                    while chunk := fh.read(COPY_CHUNK):
                        digest.update(chunk)
            self.digest = digest.hexdigest()
        return self.digest

    def read_bytes(self) -> bytes:
        """The whole file in memory (avoid for large spooled files: use ``open()``)."""
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as fh:
            return fh.read()

    def open(self) -> BinaryIO:
        """A binary file object to read the bytes from (close it, or use ``with``)."""
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")

    def copy_to(self, dest: BinaryIO) -> None:
        """Write the bytes to ``dest`` (in chunks for a spooled file)."""
        if self.data is not None:
            dest.write(self.data)
        else:
            with open(self.path, "rb") as fh:
                shutil.copyfileobj(fh, dest, COPY_CHUNK)


class SpoolFile:
    """One output file written straight to disk, in chunks::

        with SpoolFile(options.spool_dir, "speedcams.csv", "all", n) as out:
            out.write(chunk)          # as many times as needed
        files.append(out.output)      # OutputFile with ``path`` (and its sha256) set

    The file gets a fresh name inside ``spool_dir`` (file names inside a package may repeat
    across exports or contain folders); the sha256 and size are computed while writing.
    If the block fails, the file is removed.
    """

    def __init__(self, spool_dir: str, name: str, category: str = "", count: int = 0):
        self.name, self.category, self.count = name, category, count
        suffix = os.path.splitext(name)[1]
        fd, self.path = tempfile.mkstemp(prefix="spool-", suffix=suffix if suffix.isascii() else "",
                                         dir=spool_dir)
        self._fh = open(fd, "wb", buffering=COPY_CHUNK)
        self._hash = hashlib.sha256()
        self.output: OutputFile | None = None

    def write(self, data) -> int:
        self._hash.update(data)
        return self._fh.write(data)

    def __enter__(self) -> "SpoolFile":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._fh.close()
        finally:
            if exc_type is not None:
                os.unlink(self.path)
        if exc_type is None:
            self.output = OutputFile(self.name, None, self.category, self.count, path=self.path,
                                     digest=self._hash.hexdigest())


def output_file(name: str, content: bytes | Callable[[BinaryIO], None], options: "ExportOptions",
                category: str = "", count: int = 0) -> OutputFile:
    """An ``OutputFile`` from ``content``: bytes, or a writer ``content(out)`` that writes the
    bytes to ``out`` in as many calls as it likes. Without ``options.spool_dir`` the bytes
    end up in memory (``data``); with it they go to a fresh file in that directory as they
    are written (``path``), so a writer never holds the whole file. Same bytes either way."""
    if options.spool_dir is None:
        if callable(content):
            buf = OutputBuffer()
            content(buf)
            content = buf.getvalue()  # hands the buffer over without a copy
        return OutputFile(name, content, category, count)
    with SpoolFile(options.spool_dir, name, category, count) as out:
        if callable(content):
            content(out)
        else:
            out.write(content)
    return out.output


@dataclass
class RenderResult:
    files: list[OutputFile]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> number of cameras left out
    notes: list[str] = field(default_factory=list)          # what the customer should know


# ---------------------------------------------------------------------------------------
# Plugins


class Exporter:
    identifier: ClassVar[str] = ""
    verbose_name: ClassVar[str] = ""   # English, marked for the catalog; ``format_name`` translates it
    file_extension: ClassVar[str] = ""
    encoding: ClassVar[str] = "utf-8"
    max_name_length: ClassVar[int | None] = None
    direction_aware: ClassVar[bool] = False   # the format carries the heading of the enforced traffic
    speed_carried_as: ClassVar[str] = "field"  # "field", "name" or "file" (category per speed)
    # the limit in POI names (``exporters.units``): "camera" = each camera's in its unit
    # ("Speed 30 mph A40"), "file" = one unit for the export (its notes say which), "" = none
    speed_in_names: ClassVar[str] = "camera"
    mobile_supported: ClassVar[bool] = True

    @property
    def format_name(self) -> str:
        """The format's name in the active language ("TomTom OV2 POI files")."""
        return gettext(self.verbose_name)

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        raise NotImplementedError

    def size_model(self, cameras: CameraSet, options: ExportOptions):
        """A ``sizing.SizeModel`` for ``cameras``: the files, POI counts, byte sizes, skipped
        counts and notes ``render`` would give for any subset, without rendering."""
        raise NotImplementedError(f"{self.identifier} has no size model")


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
    # discovery by path: every module in plugins/ is a plugin
    for info in pkgutil.iter_modules([str(Path(__file__).parent / "plugins")]):
        importlib.import_module(f"exporters.plugins.{info.name}")
    return REGISTRY


def get_exporter(identifier: str) -> Exporter:
    load_plugins()
    try:
        return REGISTRY[identifier]()
    except KeyError:
        raise ExportError(f"unknown format {identifier!r}; valid: {', '.join(sorted(REGISTRY))}") from None
