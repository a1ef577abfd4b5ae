"""What an export will hold, without writing it: POIs and bytes per file, skipped cameras
and notes, for any subset of a camera set.

A plugin's ``size_model(cameras, options)`` does the per-camera work once (for a whole
release: record lengths, the file each camera goes to, flags that notes count); its
``sizes(mask)`` then answers for any subset (a boolean mask over ``cameras``) with a few
whole-array sums, in milliseconds. The answer must equal what ``render(cameras.take(mask),
options)`` returns: the same file names in the same order, the same POI counts, byte sizes,
skipped counts and notes. ``tests/exporters/test_sizing.py`` holds every plugin to that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .base import CameraSet, ExportOptions, RenderResult


@dataclass(frozen=True)
class FileSize:
    name: str
    category: str
    count: int   # POIs in the file (0 for companion files such as icons)
    bytes: int


@dataclass
class SizedExport:
    """``RenderResult`` without the bytes."""

    files: list[FileSize]
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def pois(self) -> int:
        return sum(f.count for f in self.files)

    @classmethod
    def of(cls, result: RenderResult) -> "SizedExport":
        """The sizes of a rendered export (what a model must reproduce)."""
        return cls([FileSize(f.name, f.category, f.count, f.size) for f in result.files],
                   dict(result.skipped), list(result.notes))


class SizeModel:
    """Sizes of the export of any subset of one camera set (see the module docstring)."""

    def sizes(self, mask: np.ndarray | None = None) -> SizedExport:
        raise NotImplementedError


Layout = Callable[["Tally"], SizedExport]


@dataclass
class Tally:
    """Per-group sums over the cameras of a subset, handed to a ``GroupedSizes`` layout."""

    counts: np.ndarray            # cameras per group (int64)
    bytes: np.ndarray             # record bytes per group (int64)
    flags: dict[str, int]         # cameras of the subset with each flag set
    index: np.ndarray             # rows of the model's camera set in the subset (selected ones only)


class GroupedSizes(SizeModel):
    """The common shape: each exported camera adds ``record_bytes`` to one group (``group``
    per camera, -1 for a camera the export leaves out, e.g. mobile ones without the option);
    ``layout(tally)`` turns the per-group counts and byte totals into files and notes
    (headers, footers, per-file structure, companion files). ``flags`` are boolean arrays per
    camera whose subset counts the notes quote. Arrays are in the order of the camera set
    the model was built for."""

    def __init__(self, group: np.ndarray, record_bytes: np.ndarray, n_groups: int, layout: Layout,
                 flags: dict[str, np.ndarray] | None = None):
        self.group = np.asarray(group, dtype=np.int64)
        self.record_bytes = np.asarray(record_bytes, dtype=np.int64)
        if self.group.shape != self.record_bytes.shape:
            raise ValueError("group and record_bytes differ in length")
        self.n_groups = int(n_groups)
        self.layout = layout
        self.flags = {k: np.asarray(v, dtype=bool) for k, v in (flags or {}).items()}

    def sizes(self, mask: np.ndarray | None = None) -> SizedExport:
        sel = self.group >= 0
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != sel.shape:
                raise ValueError(f"mask has {mask.shape[0]} rows, the camera set {sel.shape[0]}")
            sel &= mask
        index = np.flatnonzero(sel)
        g = self.group[index]
        counts = np.bincount(g, minlength=self.n_groups)
        totals = np.bincount(g, weights=self.record_bytes[index], minlength=self.n_groups)
        flags = {k: int(np.count_nonzero(v[index])) for k, v in self.flags.items()}
        return self.layout(Tally(counts.astype(np.int64), np.rint(totals).astype(np.int64), flags, index))


def rendered_sizes(exporter, cameras: CameraSet, options: ExportOptions,
                   mask: np.ndarray | None = None) -> SizedExport:
    """The reference: render the subset and measure it (slow; tests and fallbacks)."""
    subset = cameras if mask is None else cameras.take(np.asarray(mask, dtype=bool))
    return SizedExport.of(exporter.render(subset, options))
