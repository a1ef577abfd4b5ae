"""Checks, text cleaning and byte-matrix helpers shared by the device plugins (iGO, Navitel,
Sygic, OV2, Garmin GPI, POI Loader CSV): no plugin here.

- checks: ``check_coordinates`` and ``camera_list`` refuse what a format cannot hold,
  naming the cameras; ``PoiExporter`` is the base of the POI-file plugins;
- text: ``clean_text`` / ``one_line`` / ``clean_road`` make one printable line,
  ``poi_texts`` the name and comment of each distinct (type, speed, road, description),
  ``transliterate`` / ``to_codepage`` fit text into Windows-1252, ``file_stem`` makes a
  file name from a category title;
- bytes: ``round_half_away`` for coordinates in file units, ``pack_blob`` / ``padded``
  for many byte strings at once and ``cut_rows`` for records built as rows of one byte
  matrix.

Numbers as text and rows of text are built by ``exporters.textrows``; rows with equal
values are grouped by ``textrows.group_codes``.
"""

from __future__ import annotations

import unicodedata
from typing import ClassVar

import numpy as np

from .. import common
from ..base import CameraSet, Exporter, ExportError, ExportOptions, RenderResult
from ..textrows import group_codes

# ---------------------------------------------------------------------------------------
# Checks


def camera_list(ids: np.ndarray, bad: np.ndarray, detail=None, limit: int = 5) -> str:
    """"id 5 (detail), id 7 (detail) and 3 more": the first ``limit`` cameras where ``bad``;
    ``detail(i)`` (optional) describes row ``i``."""
    idx = np.flatnonzero(bad)
    shown = ", ".join(f"id {int(ids[i])}" + (f" ({detail(i)})" if detail else "") for i in idx[:limit].tolist())
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return shown + more


def check_coordinates(ids: np.ndarray, lat: np.ndarray, lon: np.ndarray, fmt: str) -> None:
    """ExportError naming the cameras whose position is missing or outside WGS84 ranges."""
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0))
    if bad.any():
        shown = camera_list(ids, bad, lambda i: f"{float(lat[i])}, {float(lon[i])}")
        raise ExportError(f"{fmt} cannot store {int(bad.sum())} camera(s) without a valid WGS84 position "
                          f"(latitude -90..90, longitude -180..180): {shown}; fix or deactivate them")


class PoiExporter(Exporter):
    """What the POI-file formats (TomTom OV2, Garmin GPI, POI Loader CSV) have in common:
    proximity alerts only (no heading), mobile cameras allowed. ``render`` selects the
    cameras and refuses invalid positions (naming the format by ``label``), then
    ``render_pois`` writes them; it is never called without cameras."""

    direction_aware = False
    mobile_supported = True
    label: ClassVar[str] = ""  # the format's name in messages

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = common.select(cameras, options)
        lat, lon = cams["lat"].astype(np.float64), cams["lon"].astype(np.float64)
        check_coordinates(cams["id"], lat, lon, self.label)
        if not len(cams):
            return RenderResult(files=[], skipped={}, notes=["No cameras in this selection: nothing to export."])
        return self.render_pois(cams, lat, lon, options)

    def render_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> RenderResult:
        """The files for ``cams`` (selected, in id order; positions in degrees, float64)."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------------
# Text


def clean_text(text: str) -> str:
    """One line of printable text: control characters (and NUL) become spaces, runs collapse."""
    if text.isprintable():
        return text
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def one_line(text: str) -> str:
    """``clean_text`` with every run of white space made one space, no space at either end."""
    return " ".join(clean_text(text).split())


def clean_road(road: str) -> str:
    """A road name for a POI name: one line, no "@" (POI Loader would take it for a speed)."""
    return " ".join(clean_text(road).replace("@", " ").split())


def file_stem(title: str) -> str:
    """"Speed cameras 50" -> "Speed_cameras_50": a category as a file name."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in title.replace(" ", "_"))


def poi_texts(cams: CameraSet, *, max_len: int | None, speed_marker: str):
    """Name and comment per distinct (type, speed, road, description).

    Returns (code per camera, first camera of each code, names, comments): the name is
    ``common.poi_names`` of the road made ``clean_road``, the comment "description, road"
    (each ``one_line``, empty parts left out).
    """
    codes, first = group_codes(cams["type"], cams["speed"], cams["road"], cams["description"])
    uniq = cams.take(first)
    columns = dict(uniq.columns)
    roads = [clean_road(r) for r in uniq["road"].tolist()]
    columns["road"] = np.array(roads, dtype=object)
    names = common.poi_names(CameraSet(columns), max_len=max_len, speed_marker=speed_marker)
    comments = [", ".join(part for part in (one_line(desc), road) if part)
                for desc, road in zip(uniq["description"].tolist(), roads)]
    return codes, first, names, comments


# Letters Windows-1252 lacks and Unicode does not decompose into an ASCII base letter.
_TRANSLIT = {
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ħ": "h", "Ħ": "H", "ŀ": "l", "Ŀ": "L", "ŧ": "t",
    "Ŧ": "T", "ə": "e", "Ə": "E", "ß": "ss", "ŉ": "'n", "ĸ": "k", "ſ": "s", "ș": "s", "Ș": "S", "ț": "t",
    "Ț": "T", "‐": "-", "‑": "-", "‒": "-", "―": "-", "−": "-", "′": "'", "″": '"', "…": "...",
    "€": "EUR",
    # Cyrillic (scientific-style, simplified)
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "Yo", "Ж": "Zh", "З": "Z", "И": "I",
    "Й": "Y", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T",
    "У": "U", "Ф": "F", "Х": "Kh", "Ц": "Ts", "Ч": "Ch", "Ш": "Sh", "Щ": "Shch", "Ъ": "", "Ы": "Y", "Ь": "",
    "Э": "E", "Ю": "Yu", "Я": "Ya", "Є": "Ye", "І": "I", "Ї": "Yi", "Ґ": "G", "Ў": "U", "Ј": "J", "Љ": "Lj",
    "Њ": "Nj", "Ћ": "C", "Ђ": "Dj", "Џ": "Dz", "Ѕ": "Dz",
    # Greek
    "Α": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Ζ": "Z", "Η": "I", "Θ": "Th", "Ι": "I", "Κ": "K",
    "Λ": "L", "Μ": "M", "Ν": "N", "Ξ": "X", "Ο": "O", "Π": "P", "Ρ": "R", "Σ": "S", "ς": "s", "Τ": "T",
    "Υ": "Y", "Φ": "F", "Χ": "Ch", "Ψ": "Ps", "Ω": "O",
}
for _upper, _latin in list(_TRANSLIT.items()):
    _lower = _upper.lower()
    if _lower != _upper and _lower not in _TRANSLIT:
        _TRANSLIT[_lower] = _latin.lower()


def _translit_char(ch: str, codec: str) -> str:
    try:
        ch.encode(codec)
        return ch
    except UnicodeEncodeError:
        pass
    if ch in _TRANSLIT:
        return _TRANSLIT[ch]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and base != ch:
        try:
            base.encode(codec)
            return base
        except UnicodeEncodeError:
            if all(c in _TRANSLIT for c in base):
                return "".join(_TRANSLIT[c] for c in base)
    return "?"


def transliterate(text: str, codec: str = "cp1252") -> tuple[str, bool]:
    """(text with only characters ``codec`` has, whether anything was replaced)."""
    try:
        text.encode(codec)
        return text, False
    except UnicodeEncodeError:
        return "".join(_translit_char(c, codec) for c in text), True


def to_codepage(text: str, max_len: int | None, codec: str = "cp1252") -> tuple[bytes, bool]:
    """(``text`` transliterated into ``codec``, cut to ``max_len`` characters, encoded; whether
    anything was transliterated). Clean the text first (``clean_text`` or ``one_line``)."""
    text, replaced = transliterate(text, codec)
    return common.fit_name(text, "", max_len).encode(codec), replaced


# ---------------------------------------------------------------------------------------
# Bytes


def round_half_away(values: np.ndarray, scale: float) -> np.ndarray:
    """round(values * scale) to int64, halves away from zero (not GPSBabel's +0.5 truncation)."""
    scaled = np.asarray(values, dtype=np.float64) * scale
    return (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int64)


def pack_blob(pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(blob, starts, lengths) for a list of byte strings."""
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    starts = np.cumsum(lengths) - lengths
    blob = np.frombuffer(b"".join(pieces), dtype=np.uint8)
    return blob, starts, lengths


def padded(pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(matrix, lengths): byte string i in row i of a uint8 matrix, zero-padded to the longest."""
    blob, _, lengths = pack_blob(pieces)
    width = int(lengths.max()) if len(pieces) else 0
    matrix = np.zeros((len(pieces), width), dtype=np.uint8)
    matrix[np.arange(width) < lengths[:, None]] = blob
    return matrix, lengths


def cut_rows(rows: np.ndarray, lengths: np.ndarray) -> bytes:
    """The first ``lengths[i]`` bytes of every row of the byte matrix ``rows``, concatenated."""
    width = rows.shape[1]
    len_type = np.uint8 if width < 256 else np.int64  # a narrow comparison when the rows are short
    return rows[np.arange(width, dtype=len_type) < np.asarray(lengths).astype(len_type)[:, None]].tobytes()
