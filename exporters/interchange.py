"""Helpers shared by the interchange-format plugins (GPX, KML, CSV, GeoJSON): no plugin here."""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from exporters.base import CameraSet, ExportError, ExportOptions, OutputFile, output_file
from exporters.common import Category, categories, scatter
from exporters.schema import MOBILE_TYPES, TYPE_LABELS, CameraType, DirectionMode, Kind
from exporters.sizing import GroupedSizes, Layout, SizedExport, Tally
from exporters.textrows import collect, write_parts
from exporters.bulk import invalid_coordinates
from exporters.i18n import number

DIRECTION_WORDS = {DirectionMode.ALL: "all", DirectionMode.ONE: "one", DirectionMode.BOTH: "both"}


def position_errors(cams: CameraSet) -> np.ndarray:
    """Cameras whose position no file can hold: a start point ``bulk.check_coordinates``
    refuses (missing, or outside -90..90 / -180..180), or an end point that is incomplete
    (one coordinate only) or outside those ranges."""
    bad = invalid_coordinates(cams["lat"], cams["lon"])
    end_lat, end_lon = cams["end_lat"], cams["end_lon"]
    has_end = ~np.isnan(end_lat) | ~np.isnan(end_lon)
    bad |= has_end & invalid_coordinates(end_lat, end_lon)
    return bad


def check_positions(cams: CameraSet, fmt: str) -> None:
    """Refuse positions no file can hold (``position_errors``), naming the cameras. The
    rule is ``bulk.check_coordinates``'s, applied to end points too; the message names the
    cameras by id only (tests/exporters/test_gpx.py holds it to that)."""
    bad = position_errors(cams)
    if bad.any():
        ids = cams["id"][bad][:10].tolist()
        more = f" and {int(bad.sum()) - 10} more" if bad.sum() > 10 else ""
        raise ExportError(f"{fmt}: camera(s) {', '.join(map(str, ids))}{more} have a position outside "
                          f"-90..90 / -180..180 (or an incomplete end point); fix them in the database first")


def split_categories(cams: CameraSet) -> list[Category]:
    """``common.categories(cams, by_speed=False)`` (kept for callers of the old name)."""
    return categories(cams, by_speed=False)


_ERRORS = "_position_errors"  # the flag of cameras ``render`` refuses


def grouped_model(cameras: CameraSet, cams: CameraSet, index: np.ndarray, group: np.ndarray,
                  record_bytes: np.ndarray, n_groups: int, layout: Layout, flags: dict[str, np.ndarray] | None = None,
                  check: Callable[[CameraSet], None] | None = None,
                  errors: np.ndarray | None = None) -> GroupedSizes:
    """A ``sizing.GroupedSizes`` over ``cameras`` from per-row arrays of ``cams`` (its
    ``common.select_index`` selection, rows ``index`` of ``cameras``). Where ``errors``
    (per row of ``cams``) marks cameras ``render`` refuses, a subset holding any of them
    raises what ``check(subset)`` raises for it, as ``render`` would."""
    n = len(cameras)
    flags = {name: scatter(np.asarray(v, dtype=bool), index, n, False) for name, v in (flags or {}).items()}
    if errors is not None and np.any(errors):
        flags[_ERRORS] = scatter(np.asarray(errors, dtype=bool), index, n, False)
        row_in_cams = scatter(np.arange(len(cams)), index, n)

        def checked(tally: Tally) -> SizedExport:
            if tally.flags.get(_ERRORS):
                check(cams.take(np.sort(row_in_cams[tally.index])))
            return layout(tally)
    else:
        checked = layout
    return GroupedSizes(scatter(np.asarray(group, dtype=np.int64), index, n, -1),
                        scatter(np.asarray(record_bytes, dtype=np.int64), index, n, 0), n_groups, checked, flags)


def encoded_size(text: str) -> int:
    """Bytes of ``text`` in the files (UTF-8)."""
    return len(text.encode("utf-8"))


def type_slugs() -> list[str]:
    """Index = type code, value = slug ("" for unused codes)."""
    table = [""] * (max(int(t) for t in CameraType) + 1)
    for t in CameraType:
        table[int(t)] = t.slug
    return table


def kind_differs(cams: CameraSet) -> np.ndarray:
    """Cameras whose kind is not the default of their type (a mobile speed camera...)."""
    mobile_type = np.isin(cams["type"], [int(t) for t in MOBILE_TYPES])
    return (cams["kind"] == Kind.MOBILE) != mobile_type


def directions(cams: CameraSet) -> tuple[np.ndarray, np.ndarray]:
    """(has a heading, direction mode to write): a mode without a heading becomes ALL, as the
    feed formats require a heading for "one" and "both"."""
    heading = cams["heading"].astype(np.float64)
    has_heading = ~np.isnan(heading)
    mode = np.where(has_heading, cams["dir_mode"], DirectionMode.ALL).astype(np.int64)
    return has_heading, mode


def describe_type(type_code: int, speed: int, truck_speed: int) -> str:
    try:
        text = TYPE_LABELS[CameraType(type_code)]
    except ValueError:
        text = "Camera"
    if speed:
        text += f", {speed} km/h"
    if truck_speed:
        text += f" (trucks {truck_speed} km/h)"
    return text


def has_end_point(cams: CameraSet) -> np.ndarray:
    """The cameras ``stretch_notes`` counts."""
    return ~np.isnan(cams["end_lat"])


def stretch_notes(cams: CameraSet, fmt: str, message: Callable[[int], str], count: int | None = None) -> list[str]:
    """The note on sections and stretches (``count`` of them: by default those of ``cams``);
    ``message(n)``: the note for n of them, ``ngettext(singular, plural, n)`` with the
    placeholders ``%(format)s`` and ``%(count)s``, in the active language."""
    n_end = int(has_end_point(cams).sum()) if count is None else int(count)
    if not n_end:
        return []
    return [message(n_end) % {"format": fmt, "count": number(n_end)}]


def text_file(name: str, parts: Iterable[bytes | str | Callable], options: ExportOptions, category: str = "",
              count: int = 0) -> OutputFile:
    """An ``OutputFile`` from strings, bytes and writer callbacks (as ``textrows.collect``).

    Without ``options.spool_dir`` the bytes are collected in memory; with it they go to a
    file in that directory chunk by chunk as the callbacks write them, so the whole file is
    never in memory (``base.output_file``). The bytes are the same either way.
    """
    if options.spool_dir is None:
        return OutputFile(name, collect(parts), category, count)

    return output_file(name, lambda out: write_parts(out, parts), options, category, count)
