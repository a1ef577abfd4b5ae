"""iGO ``speedcam.txt`` (identifier ``igo``).

Layout (shared/formats/igo-speedcam-txt.md; community documented, no NNG specification)::

    X,Y,TYPE,SPEED,DIRTYPE,DIRECTION
    2.352222,48.856613,1,50,1,90

- ASCII, ``,`` separated, one header line, CRLF line endings (the common practice; whether
  iGO accepts LF only is unconfirmed), a CRLF after the last row too.
- X = longitude, Y = latitude, WGS84 degrees with 6 decimals (0.1 m), ``.`` as decimal point.
- SPEED = km/h, ``0`` = unknown. The truck limit is not carried (one SPEED per row).
- DIRTYPE = ``DirectionMode`` (0 all directions, 1 one direction, 2 both directions).
- DIRECTION = heading of the checked traffic, clockwise from north, integer 0-359: our
  heading rounded half up, modulo 360 (359.9 -> 0, 12.5 -> 13); ``0`` when DIRTYPE is 0.
  A camera with DIRTYPE 1/2 but no heading is written as DIRTYPE 0 (it warns in every
  direction rather than in none) and counted in a note.

TYPE mapping (iGO core codes 1-7 are documented consistently; 8 is a community extension):

=====================  ====  ===================================================
CameraType             TYPE  why
=====================  ====  ===================================================
SPEED                  1     fixed speed camera
RED_LIGHT              3     red-light camera
RED_LIGHT_SPEED        2     combined red light + speed ("built-in")
SECTION_START          4     section camera point
SECTION_END            4     section camera point (iGO pairs consecutive type-4s)
SECTION with end       4 ×2  two rows: start point, then end point (same speed/direction)
SECTION without end    4     start point only, counted in a note
MOBILE_ZONE            5     mobile; a zone's end point is not carried (no zone length)
TUNNEL                 1     fixed speed camera (iGO has no tunnel code)
VARIABLE_LIMIT         1     fixed speed camera
DANGER_ZONE            8     "accident-prone / dangerous road": extended code,
                             **unconfirmed** which iGO versions warn on it; a zone's end
                             point is not carried
LEVEL_CROSSING         6     railway crossing
MOBILE_CAMERA          5     mobile camera
POLICE_CHECK           5     iGO files police checks under mobile
DISTANCE               1     fixed camera (no distance code)
BUS_LANE               1     fixed camera: code 7 is "bus-lane" in one list but "not constant
                             mobile" in another (and our iGO reader reads 7 as a mobile zone)
OTHER                  1     fixed camera
any type, kind MOBILE  5     iGO has one mobile code
=====================  ====  ===================================================

Rows are in camera-id order (a section's end row right after its start row). The text is
built as one numpy byte matrix (digits computed arithmetically, padding bytes removed):
200,000 cameras take about 0.1 s.

``text_table`` and ``point_rows`` are shared with the Navitel and Sygic plugins.
"""

from __future__ import annotations

import numpy as np

from ..base import CameraSet, Exporter, ExportError, ExportOptions, OutputFile, RenderResult, register
from ..common import select
from ..schema import CameraType, DirectionMode, Kind

T = CameraType

IGO_TYPES = {
    T.SPEED: 1, T.RED_LIGHT: 3, T.RED_LIGHT_SPEED: 2, T.SECTION_START: 4, T.SECTION_END: 4,
    T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 8, T.LEVEL_CROSSING: 6,
    T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 5, T.DISTANCE: 1, T.BUS_LANE: 1, T.OTHER: 1,
}
IGO_MOBILE = 5
IGO_HEADER = b"X,Y,TYPE,SPEED,DIRTYPE,DIRECTION"
EOL = b"\r\n"


# ---------------------------------------------------------------------------------------
# Helpers shared by the point formats (iGO, Navitel, Sygic)


def code_lookup(table: dict, fmt_name: str):
    """A function: CameraType codes array -> format codes array; unknown codes raise ExportError."""
    size = max(int(t) for t in CameraType) + 1
    lut = np.full(size, -1, dtype=np.int64)
    for t, code in table.items():
        lut[int(t)] = code

    def lookup(types: np.ndarray, ids: np.ndarray) -> np.ndarray:
        types = types.astype(np.int64)
        inside = (types >= 0) & (types < size)
        codes = np.full(len(types), -1, dtype=np.int64)
        codes[inside] = lut[types[inside]]
        bad = codes < 0
        if bad.any():
            pairs = ", ".join(f"{int(t)} (id {int(i)})" for t, i in zip(types[bad][:5], ids[bad][:5]))
            valid = ", ".join(str(int(t)) for t in table)
            raise ExportError(f"{fmt_name}: camera type code {pairs} has no mapping; valid type codes: {valid}")
        return codes

    return lookup


def check_positions(cams: CameraSet, fmt_name: str) -> None:
    """Refuse NaN or out-of-range coordinates (a garbage row would be worse than no file)."""
    lat, lon = cams["lat"], cams["lon"]
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        ids = ", ".join(str(int(i)) for i in cams["id"][bad][:5])
        raise ExportError(f"{fmt_name}: {int(bad.sum())} camera(s) have no valid position (ids {ids}); "
                          f"latitude must be within ±90 and longitude within ±180")


def check_speeds(cams: CameraSet, fmt_name: str) -> None:
    sp = cams["speed"]
    bad = (sp < 0) | (sp > 999)
    if bad.any():
        ids = ", ".join(str(int(i)) for i in cams["id"][bad][:5])
        raise ExportError(f"{fmt_name}: speed outside 0-999 km/h for camera ids {ids}")


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
        bad = ~((np.abs(lat[is_end]) <= 90) & (np.abs(lon[is_end]) <= 180))
        if bad.any():
            ids = ", ".join(str(int(i)) for i in cams["id"][idx[is_end][bad]][:5])
            raise ExportError(f"section end point out of range for camera ids {ids}")
    return idx, is_end, lat, lon


def directions(cams: CameraSet) -> tuple[np.ndarray, np.ndarray, int]:
    """(direction mode 0/1/2, heading rounded half up to 0-359, 0 for mode 0, cameras demoted).

    A camera with mode ONE or BOTH but no heading is demoted to ALL (warns everywhere).
    """
    mode = cams["dir_mode"].astype(np.int64)
    bad = (mode < 0) | (mode > 2)
    if bad.any():
        ids = ", ".join(str(int(i)) for i in cams["id"][bad][:5])
        raise ExportError(f"direction mode must be 0 (all), 1 (one) or 2 (both); camera ids {ids}")
    heading = cams["heading"].astype(np.float64)
    no_heading = (mode != DirectionMode.ALL) & ~np.isfinite(heading)
    mode = np.where(no_heading, DirectionMode.ALL, mode)
    deg = np.floor(np.nan_to_num(heading) + 0.5).astype(np.int64) % 360
    deg = np.where(mode == DirectionMode.ALL, 0, deg)
    return mode, deg, int(no_heading.sum())


def micro_degrees(values: np.ndarray) -> np.ndarray:
    """Degrees -> int64 millionths, rounded to nearest (what a 6-decimal text field shows)."""
    return np.rint(np.asarray(values, dtype=np.float64) * 1e6).astype(np.int64)


_COMMA = 44
_DOT = 46
_MINUS = 45
_PAD = 0  # removed at the end


def _digits(a: np.ndarray, *, keep_leading: bool = False, width: int | None = None) -> np.ndarray:
    """Non-negative int64 -> (n, width) ASCII digit bytes; leading zeros become padding."""
    if width is None:
        width = len(str(int(a.max()))) if len(a) else 1
    chars = np.empty((len(a), width), dtype=np.uint8)
    q = a.astype(np.uint32 if width <= 9 else np.uint64)  # 32-bit division is about twice as fast
    for j in range(width - 1, -1, -1):  # scalar divisors: numpy's fast path
        chars[:, j] = q % 10
        q //= 10
    chars += 48
    if not keep_leading:
        for j in range(width - 1):
            chars[:, j][a < 10 ** (width - 1 - j)] = _PAD
    return chars


def _sign(v: np.ndarray) -> list[np.ndarray]:
    neg = v < 0
    if not neg.any():
        return []
    return [np.where(neg, _MINUS, _PAD).astype(np.uint8)[:, None]]


def int_field(v: np.ndarray) -> list[np.ndarray]:
    v = np.asarray(v, dtype=np.int64)
    return _sign(v) + [_digits(np.abs(v))]


def fixed6_field(micro: np.ndarray) -> list[np.ndarray]:
    """int64 millionths -> ``-12.345678`` (no ``-0.000000``: zero has no sign)."""
    a = np.abs(micro)
    dot = np.full((len(a), 1), _DOT, dtype=np.uint8)
    return _sign(micro) + [_digits(a // 1_000_000), dot, _digits(a % 1_000_000, keep_leading=True, width=6)]


def text_table(fields: list[list[np.ndarray]], n: int, *, sep: int = _COMMA, eol: bytes = EOL) -> bytes:
    """Rows of comma-separated fields (each a list of byte-matrix parts) as one bytes object."""
    if n == 0:
        return b""
    parts = []
    sep_col = np.full((n, 1), sep, dtype=np.uint8)
    for i, field in enumerate(fields):
        if i:
            parts.append(sep_col)
        parts.extend(field)
    parts.append(np.tile(np.frombuffer(eol, dtype=np.uint8), (n, 1)))
    flat = np.concatenate(parts, axis=1).ravel()
    return flat[flat != _PAD].tobytes()


def common_notes(cams: CameraSet, demoted: int, fmt_name: str) -> list[str]:
    """What the customer should know about sections, zones, truck limits and missing headings."""
    notes = []
    single = (cams["type"] == CameraType.SECTION) & ~(np.isfinite(cams["end_lat"]) & np.isfinite(cams["end_lon"]))
    if single.any():
        notes.append(f"{int(single.sum())} average-speed section(s) without an end point are written as their "
                     f"start point only.")
    zones = (np.isin(cams["type"], [int(CameraType.MOBILE_ZONE), int(CameraType.DANGER_ZONE)])
             & np.isfinite(cams["end_lat"]))
    if zones.any():
        notes.append(f"{fmt_name} has no zone length: {int(zones.sum())} zone(s) given as a stretch are written as "
                     f"one point at their start.")
    if (cams["truck_speed"] > 0).any():
        notes.append(f"{fmt_name} carries one speed limit per camera: truck limits are not included.")
    if demoted:
        notes.append(f"{demoted} camera(s) with a direction mode but no heading warn in all directions.")
    return notes


# ---------------------------------------------------------------------------------------
# The plugin

igo_codes = code_lookup(IGO_TYPES, "iGO")


@register
class IgoExporter(Exporter):
    identifier = "igo"
    verbose_name = "iGO speedcam.txt (iGO 8 / Primo / NextGen)"
    file_extension = ".txt"
    encoding = "ascii"
    max_name_length = None  # no names in the file
    direction_aware = True
    speed_carried_as = "field"
    mobile_supported = True
    file_name = "speedcam.txt"

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = select(cameras, options)
        check_positions(cams, "iGO")
        check_speeds(cams, "iGO")
        codes = igo_codes(cams["type"], cams["id"])
        codes = np.where(cams["kind"] == Kind.MOBILE, IGO_MOBILE, codes)
        mode, deg, demoted = directions(cams)
        idx, is_end, lat, lon = point_rows(cams)
        n = len(idx)
        body = text_table([
            fixed6_field(micro_degrees(lon)),
            fixed6_field(micro_degrees(lat)),
            int_field(codes[idx]),
            int_field(cams["speed"][idx]),
            int_field(mode[idx]),
            int_field(deg[idx]),
        ], n)
        data = IGO_HEADER + EOL + body
        notes = common_notes(cams, demoted, "iGO")
        if (codes == 8).any():
            notes.append("Danger zones use iGO TYPE 8 (a community extension); older iGO versions may not warn "
                         "on it.")
        return RenderResult(files=[OutputFile(self.file_name, data, "all", n)], skipped={}, notes=notes)
