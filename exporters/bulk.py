"""Checks, text cleaning and byte-matrix helpers shared by the device plugins (iGO, Navitel,
Sygic, OV2, Garmin GPI, POI Loader CSV): no plugin here.

- checks: ``check_coordinates`` and ``camera_list`` refuse what a format cannot hold,
  naming the cameras; ``PoiExporter`` is the base of the POI-file plugins, ``PoiSizes``
  the size model it builds from a plugin's ``size_pois``;
- text: ``clean_text`` / ``one_line`` / ``clean_road`` make one printable line,
  ``poi_texts`` the name and comment of each distinct (type, speed, road, description),
  ``name_table`` / ``encode_fixed`` encoded names as a fixed-width bytes array, in chunks,
  ``transliterate`` / ``to_codepage`` fit text into Windows-1252, ``file_stem`` makes a
  file name from a category title;
- bytes: ``round_half_away`` for coordinates in file units, ``pack_blob`` / ``padded``
  for many byte strings at once and ``cut_rows`` for records built as rows of one byte
  matrix.

Numbers as text and rows of text are built by ``exporters.textrows``; rows with equal
values are grouped by ``textrows.group_codes``.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, ClassVar

import numpy as np

from exporters import common, sizing
from exporters.base import CameraSet, Exporter, ExportError, ExportOptions, RenderResult
from exporters.textrows import group_codes
from exporters.units import MPH_COLUMN, unit_columns

# ---------------------------------------------------------------------------------------
# Checks


def camera_list(ids: np.ndarray, bad: np.ndarray, detail=None, limit: int = 5) -> str:
    """"id 5 (detail), id 7 (detail) and 3 more": the first ``limit`` cameras where ``bad``;
    ``detail(i)`` (optional) describes row ``i``."""
    idx = np.flatnonzero(bad)
    shown = ", ".join(f"id {int(ids[i])}" + (f" ({detail(i)})" if detail else "") for i in idx[:limit].tolist())
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return shown + more


def invalid_coordinates(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Where a position is missing or outside WGS84 ranges (what ``check_coordinates`` refuses)."""
    return ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0))


def check_coordinates(ids: np.ndarray, lat: np.ndarray, lon: np.ndarray, fmt: str) -> None:
    """ExportError naming the cameras whose position is missing or outside WGS84 ranges."""
    bad = invalid_coordinates(lat, lon)
    if bad.any():
        shown = camera_list(ids, bad, lambda i: f"{float(lat[i])}, {float(lon[i])}")
        raise ExportError(f"{fmt} cannot store {int(bad.sum())} camera(s) without a valid WGS84 position "
                          f"(latitude -90..90, longitude -180..180): {shown}; fix or deactivate them")


EMPTY_NOTE = "No cameras in this selection: nothing to export."


def category_groups(cams: CameraSet, *, by_speed: bool) -> tuple[list[common.Category], np.ndarray]:
    """(``common.categories(cams, by_speed=...)``, index of its category per camera). The
    categories of any subset of ``cams`` are those of the full set it has cameras in, in the
    same order (with the same slugs and titles)."""
    cats = common.categories(cams, by_speed=by_speed)
    group = np.empty(len(cams), dtype=np.int64)
    for k, cat in enumerate(cats):
        group[cat.index] = k
    return cats, group


@dataclass
class PoiSizeParts:
    """What a POI plugin's ``size_pois`` gives for the selected cameras (``GroupedSizes``
    terms, per selected camera in id order): each camera adds ``record_bytes`` to group
    ``group``; ``layout(tally)`` makes the files and notes of a non-empty subset; ``flags``
    count for notes; ``refused`` marks cameras ``render_pois`` would refuse (the export of a
    subset holding one is rendered instead, to give the same error)."""

    group: np.ndarray
    record_bytes: np.ndarray
    n_groups: int
    layout: sizing.Layout
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    refused: np.ndarray | None = None


class PoiSizes(sizing.GroupedSizes):
    """``GroupedSizes`` for a ``PoiExporter``: no files and the empty note for an empty
    subset, and for a subset with a camera the export refuses (invalid position, a value
    the format cannot hold) the subset is rendered, which raises the same error."""

    def __init__(self, parts: PoiSizeParts, refused: np.ndarray,
                 render_subset: Callable[[np.ndarray | None], sizing.SizedExport]):
        super().__init__(parts.group, parts.record_bytes, parts.n_groups, self._layout, parts.flags)
        self.poi_layout = parts.layout
        self.refused = np.asarray(refused, dtype=bool)
        self.any_refused = bool(self.refused.any())
        self.render_subset = render_subset

    def _layout(self, tally: sizing.Tally) -> sizing.SizedExport:
        if not tally.counts.any():
            return sizing.SizedExport([], {}, [EMPTY_NOTE])
        return self.poi_layout(tally)

    def sizes(self, mask: np.ndarray | None = None) -> sizing.SizedExport:
        if self.any_refused:
            hit = self.refused if mask is None else self.refused & np.asarray(mask, dtype=bool)
            if hit.any():
                return self.render_subset(mask)
        return super().sizes(mask)


class PoiExporter(Exporter):
    """What the POI-file formats (TomTom OV2, Garmin GPI, POI Loader CSV) have in common:
    proximity alerts only (no heading), mobile cameras allowed. ``render`` selects the
    cameras and refuses invalid positions (naming the format by ``label``), then
    ``render_pois`` writes them; it is never called without cameras.

    ``size_model`` does the same selection and hands the selected cameras to ``size_pois``
    (a plugin's per-camera work, see ``PoiSizeParts``); the model answers for rows of the
    given camera set."""

    direction_aware = False
    mobile_supported = True
    label: ClassVar[str] = ""  # the format's name in messages

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = common.select(cameras, options)
        lat, lon = cams["lat"].astype(np.float64), cams["lon"].astype(np.float64)
        check_coordinates(cams["id"], lat, lon, self.label)
        if not len(cams):
            return RenderResult(files=[], skipped={}, notes=[EMPTY_NOTE])
        return self.render_pois(cams, lat, lon, options)

    def render_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> RenderResult:
        """The files for ``cams`` (selected, in id order; positions in degrees, float64)."""
        raise NotImplementedError

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        cams, rows = common.select_index(cameras, options)
        lat, lon = cams["lat"].astype(np.float64), cams["lon"].astype(np.float64)
        parts = self.size_pois(cams, lat, lon, options)
        refused = invalid_coordinates(lat, lon)
        if parts.refused is not None:
            refused |= parts.refused
        n = len(cameras)
        parts.group = common.scatter(np.asarray(parts.group, dtype=np.int64), rows, n)
        parts.record_bytes = common.scatter(np.asarray(parts.record_bytes, dtype=np.int64), rows, n, fill=0)
        parts.flags = {k: common.scatter(np.asarray(v, dtype=bool), rows, n, fill=False)
                       for k, v in parts.flags.items()}
        return PoiSizes(parts, common.scatter(refused, rows, n, fill=False),
                        lambda mask: sizing.rendered_sizes(self, cameras, options, mask))

    def size_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> PoiSizeParts:
        """The per-camera part of the size model for ``cams`` (selected, in id order, as
        ``render_pois`` gets them; possibly empty, possibly with invalid positions)."""
        raise NotImplementedError(f"{self.identifier} has no size model")


def rows_of(cams: CameraSet, idx: np.ndarray, names=("type", "speed", "road")) -> CameraSet:
    """The rows ``idx`` of ``cams`` with only the columns ``names`` (and ``id``, and the unit
    column ``mph`` when ``cams`` has one): what a chunk needs to make its names
    (``common.poi_names`` reads type, speed, unit and road), without copying every column."""
    sub = CameraSet.__new__(CameraSet)
    extra = (MPH_COLUMN,) if MPH_COLUMN in cams.columns and MPH_COLUMN not in names else ()
    sub.columns = {name: cams[name][idx] for name in ("id", *names, *extra)}
    return sub


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
    """"Speed cameras 50" -> "Speed_cameras_50", "Speed cameras 30 mph" -> "Speed_cameras_30mph":
    a category as a file name."""
    title = title.replace(" mph", "mph")
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in title.replace(" ", "_"))


def poi_texts(cams: CameraSet, *, max_len: int | None, speed_marker: str):
    """Name and comment per distinct (type, speed, road, description).

    Returns (code per camera, first camera of each code, names, comments): the name is
    ``common.poi_names`` of the road made ``clean_road``, the comment "description, road"
    (each ``one_line``, empty parts left out).
    """
    codes, first = group_codes(cams["type"], cams["speed"], *unit_columns(cams), cams["road"], cams["description"])
    columns = {name: values[first] for name, values in cams.columns.items()}
    roads = [clean_road(r) for r in columns["road"].tolist()]
    columns["road"] = np.array(roads, dtype=object)
    named = CameraSet.__new__(CameraSet)  # only the columns ``cams`` has (``rows_of``): no check
    named.columns = columns
    names = common.poi_names(named, max_len=max_len, speed_marker=speed_marker)
    comments = [", ".join(part for part in (one_line(desc), road) if part)
                for desc, road in zip(columns["description"].tolist(), roads)]
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


@functools.lru_cache(maxsize=4096)
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


def encode_fixed(values, encode, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(``encode(value)`` bytes of each value in a fixed-width bytes array (dtype ``S<width>``),
    whether each was transliterated): ``encode`` gives (bytes of at most ``width`` bytes, no NUL
    inside, transliterated?). Trailing NULs pad the bytes: viewed as uint8 the array is the
    zero-padded byte matrix, and ``np.char.str_len`` gives the lengths."""
    out = np.zeros(len(values), dtype=f"S{width}")
    replaced = np.zeros(len(values), dtype=bool)
    for k, value in enumerate(values):
        data, replaced[k] = encode(value)
        if len(data) > width or b"\0" in data:
            raise ValueError(f"{data!r} does not fit a {width}-byte field without NUL")
        out[k] = data
    return out, replaced


CHUNK_ROWS = 1 << 16  # distinct values whose text is made at once (bounds the memory of the strings)


def name_table(cams: CameraSet, first: np.ndarray, encode, width: int, *, clean_roads: bool = False,
               chunk: int | None = None, **poi_name_options) -> tuple[np.ndarray, np.ndarray]:
    """``encode_fixed`` of ``common.poi_names`` of the cameras ``first`` (one per distinct
    name; with ``clean_roads`` the roads made ``clean_road`` first, as ``poi_texts`` does),
    made ``chunk`` cameras at a time so that the strings of at most ``chunk`` names exist at
    once. A name depends only on its camera's values, so chunks give the same names."""
    chunk = chunk or CHUNK_ROWS
    out = np.zeros(len(first), dtype=f"S{width}")
    replaced = np.zeros(len(first), dtype=bool)
    for a in range(0, len(first), chunk):
        rows = cams.take(first[a:a + chunk])
        if clean_roads:
            rows.columns["road"] = np.array([clean_road(r) for r in rows["road"].tolist()], dtype=object)
        names = common.poi_names(rows, **poi_name_options)
        out[a:a + len(names)], replaced[a:a + len(names)] = encode_fixed(names, encode, width)
    return out, replaced


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
