"""Point exporters: what the formats with one row per camera point share (iGO, Navitel,
Sygic). A format gives a table of type codes and a row writer; the base here checks speeds
and coordinates, pairs section rows, sizes a package without writing it, and collects the
notes a package states (sections without an end point, unknown codes, dropped rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np

from exporters import sizing
from exporters.base import (CameraSet, Exporter, ExportError, ExportOptions, OutputFile, RenderResult, output_file)
from exporters.bulk import camera_list, check_coordinates, invalid_coordinates
from exporters.common import scatter, select, select_index
from exporters.schema import CameraType, DirectionMode, Kind
from exporters.textrows import group_codes, number_pieces, write_rows
from exporters.i18n import gettext, ngettext, number

T = CameraType
EOL = b"\r\n"


def code_lookup(table: dict, fmt_name: str, mobile_code: int | None = None):
    """A function: camera set -> the format's code per camera, from ``table`` (CameraType ->
    code), or ``mobile_code`` for every mobile camera if given; a type code ``table`` lacks
    raises ExportError."""
    size = max(int(t) for t in CameraType) + 1
    lut = np.full(size, -1, dtype=np.int64)
    for t, code in table.items():
        lut[int(t)] = code

    def lookup(cams: CameraSet) -> np.ndarray:
        types, ids = cams["type"].astype(np.int64), cams["id"]
        inside = (types >= 0) & (types < size)
        codes = np.full(len(types), -1, dtype=np.int64)
        codes[inside] = lut[types[inside]]
        bad = codes < 0
        if bad.any():
            pairs = ", ".join(f"{int(t)} (id {int(i)})" for t, i in zip(types[bad][:5], ids[bad][:5]))
            valid = ", ".join(str(int(t)) for t in table)
            raise ExportError(f"{fmt_name}: camera type code {pairs} has no mapping; valid type codes: {valid}")
        if mobile_code is not None:
            codes = np.where(cams["kind"] == Kind.MOBILE, mobile_code, codes)
        return codes

    def known(cams: CameraSet) -> np.ndarray:
        """Per camera: whether ``lookup`` has a code for it (it raises for the others)."""
        types = cams["type"].astype(np.int64)
        inside = (types >= 0) & (types < size)
        ok = np.zeros(len(types), dtype=bool)
        ok[inside] = lut[types[inside]] >= 0
        return ok

    lookup.known = known
    return lookup


def check_speeds(cams: CameraSet, fmt_name: str) -> None:
    sp = cams["speed"]
    bad = (sp < 0) | (sp > 999)
    if bad.any():
        shown = camera_list(cams["id"], bad, lambda i: f"{int(sp[i])} km/h")
        raise ExportError(f"{fmt_name}: speed outside 0-999 km/h for {shown}")


def lone_sections(cams: CameraSet) -> np.ndarray:
    """Per camera: a SECTION without an end point (a section's start whose end is unknown)."""
    return (cams["type"] == CameraType.SECTION) & ~(np.isfinite(cams["end_lat"]) & np.isfinite(cams["end_lon"]))


def as_written(cams: CameraSet) -> CameraSet:
    """The cameras with the type the point formats code them by: a SECTION without an end
    point as a fixed SPEED camera at its start. A lone section point would start a section
    warning that iGO keeps on until the next section camera (iGO manuals); a fixed camera
    warns at the place it is known to be."""
    lone = lone_sections(cams)
    if not lone.any():
        return cams
    columns = dict(cams.columns)
    columns["type"] = np.where(lone, CameraType.SPEED, cams["type"]).astype(cams["type"].dtype)
    return CameraSet(columns)


def point_rows(cams: CameraSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One row per camera, two for a SECTION with an end point (start row, then end row).

    Returns (camera index per row, is-end-row mask, latitude per row, longitude per row).
    """
    end_lat, end_lon = cams["end_lat"], cams["end_lon"]
    pair = (cams["type"] == CameraType.SECTION) & np.isfinite(end_lat) & np.isfinite(end_lon)
    reps = 1 + pair.astype(np.int64)
    idx = np.repeat(np.arange(len(cams)), reps)
    is_end = np.zeros(len(idx), dtype=bool)
    first = np.cumsum(reps) - reps
    is_end[first[pair] + 1] = True
    lat = cams["lat"][idx].astype(np.float64)
    lon = cams["lon"][idx].astype(np.float64)
    lat[is_end] = end_lat[idx[is_end]]
    lon[is_end] = end_lon[idx[is_end]]
    if is_end.any():
        bad = ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180)) & is_end
        if bad.any():
            shown = camera_list(cams["id"][idx], bad, lambda i: f"{float(lat[i])}, {float(lon[i])}")
            raise ExportError(f"section end point out of range for {shown}")
    return idx, is_end, lat, lon


def directions(cams: CameraSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(direction mode 0/1/2, heading rounded half up to 0-359, 0 for mode 0, per camera:
    demoted).

    A camera with mode ONE or BOTH but no heading is demoted to ALL (warns everywhere).
    """
    mode = cams["dir_mode"].astype(np.int64)
    bad = (mode < 0) | (mode > 2)
    if bad.any():
        shown = camera_list(cams["id"], bad, lambda i: f"mode {int(mode[i])}")
        raise ExportError(f"direction mode must be 0 (all), 1 (one) or 2 (both); {shown}")
    heading = cams["heading"].astype(np.float64)
    no_heading = (mode != DirectionMode.ALL) & ~np.isfinite(heading)
    mode = np.where(no_heading, DirectionMode.ALL, mode)
    deg = np.floor(np.nan_to_num(heading) + 0.5).astype(np.int64) % 360
    deg = np.where(mode == DirectionMode.ALL, 0, deg)
    return mode, deg, no_heading


@dataclass
class Points:
    """The rows of a point format: one per camera, two for a section with an end point."""

    cams: CameraSet      # the selected cameras, in id order
    codes: np.ndarray    # the format's type code per camera
    mode: np.ndarray     # direction mode per camera (0 where there is no heading)
    deg: np.ndarray      # heading per camera, rounded half up to 0-359, 0 for mode 0
    no_heading: np.ndarray  # per camera: a mode but no heading (demoted to all directions)
    idx: np.ndarray      # camera index per row
    lat: np.ndarray      # latitude per row (the end point on a section's second row)
    lon: np.ndarray


def points(cameras: CameraSet, options: ExportOptions, fmt_name: str,
           codes_of: Callable[[CameraSet], np.ndarray]) -> Points:
    """The selected cameras as rows, checked in this order: positions, speeds, type codes
    (``codes_of`` of the cameras ``as_written``), direction modes, section end points."""
    cams = select(cameras, options)
    check_coordinates(cams["id"], cams["lat"], cams["lon"], fmt_name)
    check_speeds(cams, fmt_name)
    codes = codes_of(as_written(cams))
    mode, deg, no_heading = directions(cams)
    idx, _, lat, lon = point_rows(cams)
    return Points(cams, codes, mode, deg, no_heading, idx, lat, lon)


def invalid_cameras(cams: CameraSet, codes_of) -> np.ndarray:
    """Per selected camera: whether ``points`` would refuse it (position, speed, type code,
    direction mode or section end point), so a size model can leave it to ``render``."""
    bad = invalid_coordinates(cams["lat"].astype(np.float64), cams["lon"].astype(np.float64))
    sp = cams["speed"]
    bad |= (sp < 0) | (sp > 999)
    bad |= ~codes_of.known(cams)
    mode = cams["dir_mode"].astype(np.int64)
    bad |= (mode < 0) | (mode > 2)
    end_lat, end_lon = cams["end_lat"], cams["end_lon"]
    pair = (cams["type"] == CameraType.SECTION) & np.isfinite(end_lat) & np.isfinite(end_lon)
    bad |= pair & invalid_coordinates(end_lat, end_lon)
    return bad


def speedcam_pieces(pts: Points, deg: np.ndarray, *, with_id: bool = False):
    """``make(rows)``: the text pieces of the rows ``rows`` ("[IDX,]X,Y,TYPE,SPEED,DIRTYPE,
    DIRECTION" CRLF: IDX the row number from 0, X, Y in degrees with 6 decimals, the rest
    integers; ``deg``: the DIRECTION per camera). The writer joins them; the size model
    measures them."""
    idx = pts.idx
    lon, lat, angle = pts.lon, pts.lat, deg[idx]
    # TYPE, SPEED and DIRTYPE take few values: their text is made once per combination
    fields = (pts.codes[idx], pts.cams["speed"][idx], pts.mode[idx])
    middle_codes, first = group_codes(*fields)
    middle = np.array([f",{t},{sp},{m}," for t, sp, m in zip(*(f[first].tolist() for f in fields))], dtype=object)

    def make(i):
        lead = number_pieces(i, suffix=",") if with_id else []  # the row number
        return [*lead, *number_pieces(lon[i], 6, suffix=","), *number_pieces(lat[i], 6),
                middle[middle_codes[i]].tolist(), *number_pieces(angle[i], suffix="\r\n")]

    return make


def speedcam_writer(header: bytes, pts: Points, deg: np.ndarray, *, with_id: bool = False):
    """A writer ``write(out)`` of ``header`` CRLF, then the rows of ``speedcam_pieces``, a
    chunk of rows at a time."""
    make = speedcam_pieces(pts, deg, with_id=with_id)

    def write(out) -> None:
        out.write(header + EOL)
        write_rows(out, np.arange(len(pts.idx)), make, encoding="ascii")

    return write


SIZE_CHUNK = 65536  # rows measured at a time by ``speedcam_row_bytes``


def speedcam_row_bytes(pts: Points, deg: np.ndarray, *, with_id: bool = False, chunk: int | None = None) -> np.ndarray:
    """Bytes of each camera's rows in ``speedcam_writer``'s file (ASCII: one byte per character),
    measured on the very pieces the writer joins, ``chunk`` (default ``SIZE_CHUNK``) rows at a time.
    With ``with_id`` the IDX column counts its comma only: the row numbers depend on the
    subset written (``row_number_bytes``)."""
    chunk = chunk or SIZE_CHUNK
    make = speedcam_pieces(pts, deg)
    nrows = len(pts.idx)
    row_len = np.full(nrows, 1 if with_id else 0, dtype=np.int64)
    for start in range(0, nrows, chunk):
        rows = np.arange(start, min(nrows, start + chunk))
        for piece in make(rows):
            row_len[start:start + len(rows)] += np.fromiter(map(len, piece), dtype=np.int64, count=len(rows))
    return np.bincount(pts.idx, weights=row_len, minlength=len(pts.cams)).astype(np.int64)


def row_number_bytes(rows: int) -> int:
    """Digits of the row numbers 0 .. ``rows`` - 1 together."""
    total, width, low = 0, 1, 0
    while low < rows:
        high = min(rows, 10 ** width)
        total += (high - low) * width
        low, width = high, width + 1
    return total


def note_flags(pts: Points) -> dict[str, np.ndarray]:
    """Per selected camera, the facts the common notes count (and ``pairs``: cameras written
    as two rows)."""
    cams = pts.cams
    has_end = np.isfinite(cams["end_lat"]) & np.isfinite(cams["end_lon"])
    section = cams["type"] == CameraType.SECTION
    zones = (np.isin(cams["type"], [int(CameraType.MOBILE_ZONE), int(CameraType.DANGER_ZONE)])
             & np.isfinite(cams["end_lat"]))
    return {"single": section & ~has_end, "pairs": section & has_end, "zones": zones,
            "truck": cams["truck_speed"] > 0, "demoted": pts.no_heading}


def common_notes(counts: dict[str, int], fmt_name: str) -> list[str]:
    """What the customer should know about sections, zones, truck limits and missing headings
    (``counts``: the ``note_flags`` counted over the exported cameras)."""
    notes = []
    if counts["single"]:
        notes.append(ngettext(
            "%(count)s average-speed section without a known end point is written as a fixed speed camera at its "
            "start: a lone section point would keep %(format)s's section warning on until the next section camera.",
            "%(count)s average-speed sections without a known end point are written as fixed speed cameras at their "
            "start: a lone section point would keep %(format)s's section warning on until the next section camera.",
            counts["single"]) % {"count": number(counts["single"]), "format": fmt_name})
    if counts["zones"]:
        notes.append(ngettext(
            "%(format)s has no zone length: %(count)s zone given as a stretch is written as one point at its start.",
            "%(format)s has no zone length: %(count)s zones given as a stretch are written as one point at their "
            "start.", counts["zones"]) % {"count": number(counts["zones"]), "format": fmt_name})
    if counts["truck"]:
        notes.append(gettext("%(format)s carries one speed limit per camera: truck limits are not included.")
                     % {"format": fmt_name})
    if counts["demoted"]:
        notes.append(ngettext(
            "%(count)s camera with a direction mode but no heading warns in all directions.",
            "%(count)s cameras with a direction mode but no heading warn in all directions.",
            counts["demoted"]) % {"count": number(counts["demoted"])})
    return notes


class _Guarded(sizing.SizeModel):
    """The size model of the valid cameras; a subset with a camera ``render`` refuses is
    rendered instead (so it raises the same ExportError)."""

    def __init__(self, inner, invalid, exporter, cameras, options):
        self.inner, self.invalid = inner, invalid
        self.exporter, self.cameras, self.options = exporter, cameras, options

    def sizes(self, mask=None):
        mask = np.ones(len(self.invalid), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        if (mask & self.invalid).any():
            return sizing.rendered_sizes(self.exporter, self.cameras, self.options, mask)
        return self.inner.sizes(mask[~self.invalid])


class PointExporter(Exporter):
    """What the point formats (iGO, Navitel, Sygic) have in common: one file of all the
    cameras (ASCII text unless a subclass says otherwise), no names, a heading and a speed
    field per camera.

    ``render`` makes the rows (``points``, naming the format by ``label`` and coding types
    with ``type_codes``), then the file (``file_output``) and the notes (``common_notes`` and
    ``format_notes``)."""

    file_extension = ".txt"
    encoding = "ascii"
    max_name_length = None  # no names in the file
    direction_aware = True
    speed_carried_as = "field"
    speed_in_names = ""  # no names
    mobile_supported = True
    file_name: ClassVar[str] = ""
    label: ClassVar[str] = ""  # the format's name in messages

    def type_codes(self, cams: CameraSet) -> np.ndarray:
        raise NotImplementedError

    def header(self) -> bytes:
        """The text file's first line (without CRLF)."""
        raise NotImplementedError

    def directions_of(self, pts: Points) -> np.ndarray:
        """The DIRECTION field per camera."""
        return pts.deg

    with_id: ClassVar[bool] = False  # an IDX column first: the row number from 0

    def file_output(self, pts: Points, options: ExportOptions) -> OutputFile:
        """The file, written a chunk of rows at a time (to ``options.spool_dir`` when set)."""
        return output_file(self.file_name, speedcam_writer(self.header(), pts, self.directions_of(pts),
                                                           with_id=self.with_id), options, "all", len(pts.idx))

    def format_flags(self, pts: Points) -> dict[str, np.ndarray]:
        """Per camera flags the format's own notes count."""
        return {}

    def format_notes(self, counts: dict[str, int]) -> list[str]:
        return []

    def notes(self, counts: dict[str, int]) -> list[str]:
        return common_notes(counts, self.label) + self.format_notes(counts)

    def flags(self, pts: Points) -> dict[str, np.ndarray]:
        return {**note_flags(pts), **self.format_flags(pts)}

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        pts = points(cameras, options, self.label, self.type_codes)
        counts = {k: int(np.count_nonzero(v)) for k, v in self.flags(pts).items()}
        return RenderResult(files=[self.file_output(pts, options)], skipped={}, notes=self.notes(counts))

    # sizes -----------------------------------------------------------------------------

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        n = len(cameras)
        cams, index = select_index(cameras, options)
        bad = invalid_cameras(cams, self.type_codes)
        if bad.any():
            invalid = scatter(bad, index, n, False)
            inner = self.size_model(cameras.take(~invalid), options)
            return _Guarded(inner, invalid, self, cameras, options)
        pts = points(cameras, options, self.label, self.type_codes)
        flags = {k: scatter(v, index, n, False) for k, v in self.flags(pts).items()}
        return self.points_size_model(pts, index, n, flags)

    def points_size_model(self, pts: Points, index: np.ndarray, n: int,
                          flags: dict[str, np.ndarray]) -> sizing.SizeModel:
        """The model for the text formats: header, then each camera's rows."""
        head = len(self.header()) + len(EOL)
        record = speedcam_row_bytes(pts, self.directions_of(pts), with_id=self.with_id)
        group = scatter(np.zeros(len(index), dtype=np.int64), index, n, -1)

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            rows = int(tally.counts[0]) + tally.flags["pairs"]
            numbers = row_number_bytes(rows) if self.with_id else 0
            return sizing.SizedExport([sizing.FileSize(self.file_name, "all", rows,
                                                       head + int(tally.bytes[0]) + numbers)],
                                      {}, self.notes(tally.flags))

        return sizing.GroupedSizes(group, scatter(record, index, n, 0), 1, layout, flags)


# ---------------------------------------------------------------------------------------
# The plugin
