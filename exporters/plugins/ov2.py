"""TomTom OV2: one POI file per category and speed, each with a same-name 22x22 icon.

Layout (docs/formats/tomtom-ov2.md): little-endian records, coordinates
degrees x 100 000 rounded to nearest (halves away from zero; GPSBabel 1.8 truncates
``x + 0.5`` and so biases negative coordinates). Every file is a skipper tree: each node is
a type-1 record (21 bytes: type, block length, NE corner then SW corner, as GPSBabel and
ov2optimizer write it) followed by its two children, or by its POIs (type-2 records) for
a leaf of at most ``LEAF_SIZE`` POIs. A node splits at the median along its larger extent
(x or y, in file units). Block lengths count the bytes actually written.

OV2 has no speed and no heading: speed cameras are split per speed limit (file) and carry
the limit in the POI name ("Speed 50 A7"); alerts are proximity-only, both directions.
Limits shown in mph (``exporters.units``: a UK camera with the "auto" unit) are their own
files and names: ``Speed_cameras_30mph.ov2`` holding "Speed 30 mph A40", with a "30" sign.
Names are Windows-1252 (GPSBabel's choice, the safe one for legacy NavCore); characters the
code page lacks are transliterated ("Łódź" -> "Lódz", Cyrillic/Greek to Latin).

Package layout::

    tomtom/<Category>.ov2                the POIs
    tomtom/<Category>.bmp                icon of the chosen set (options.icons), 22x22, 4-bit
    icons/speed/<Category>.bmp           both icon sets, so the customer can swap icons on the
    icons/fr-danger/<Category>.bmp       device by copying the other .bmp next to the .ov2

Everything is built with numpy over whole columns: names once per distinct (type, speed,
road) into a fixed-width bytes array, the skipper trees of many files level by level at once
(``POIS_PER_BATCH`` POIs at a time), the records as rows of a byte matrix a chunk of rows at
a time, each file written (to ``ExportOptions.spool_dir`` when set) as it is done, so memory
stays small for a million cameras (200 000 cameras render in well under 0.2 s, GPSBabel
needs about 1.6 s). ``TomTomOV2.size_model`` sizes any subset from the same record lengths
(``poi_record_lengths``) and skipper counts (``skipper_count``).
"""

from __future__ import annotations

import functools

import numpy as np
from ..i18n import gettext_noop

from exporters import common, icons, sizing
from exporters.base import CameraSet, ExportOptions, OutputFile, RenderResult, output_file, register
from exporters.textrows import group_codes
from exporters.units import unit_columns
from exporters.bulk import (PoiExporter, PoiSizeParts, category_groups, clean_text, cut_rows, file_stem, name_table,
                    round_half_away, to_codepage)
from exporters.i18n import gettext, ngettext, number

LEAF_SIZE = 20          # POIs per skipper leaf at most (TomTom practice, per ov2optimizer's author)
SKIPPER_BYTES = 21
POI_HEADER_BYTES = 13
ICON_SIZE = 22
ICON_BITS = 4           # 16 colours (GPSBabel doc; the TomTom devices in the catalog take 4-bit)
MAX_NAME = 64           # characters; no device limit is documented (GPSBabel cuts at 255 bytes)

_POI_HEADER = np.dtype([("type", "u1"), ("length", "<i4"), ("x", "<i4"), ("y", "<i4")])
_SKIPPER = np.dtype([("type", "u1"), ("length", "<i4"), ("east", "<i4"), ("north", "<i4"),
                     ("west", "<i4"), ("south", "<i4")])
assert _POI_HEADER.itemsize == POI_HEADER_BYTES and _SKIPPER.itemsize == SKIPPER_BYTES


def encode_name(name: str, max_len: int = MAX_NAME) -> tuple[bytes, bool]:
    """A POI name as stored (without its NUL): Windows-1252, at most ``max_len`` characters."""
    return to_codepage(clean_text(name), max_len)


def encode_names(cameras: CameraSet, max_len: int = MAX_NAME) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code per camera, cp1252 name bytes per code, whether each code's name was transliterated).

    Names come from ``common.poi_names`` ("Speed 50 Rue de Rivoli", "Speed 30 mph A40"),
    built once per distinct (type, speed, unit, road). They are a fixed-width bytes array one byte wider than the longest
    possible name: viewed as uint8 it is the byte matrix of the names each followed by its
    NUL (``name_matrix``).
    """
    codes, first = group_codes(cameras["type"], cameras["speed"], *unit_columns(cameras), cameras["road"])
    names, replaced = name_table(cameras, first, lambda name: encode_name(name, max_len), max_len + 1,
                                 max_len=None)
    return codes, names, replaced


def name_matrix(names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(byte matrix, lengths with the NUL) of the names of ``encode_names``."""
    return names.view(np.uint8).reshape(len(names), names.dtype.itemsize), np.char.str_len(names).astype(np.int64) + 1


def poi_record_lengths(name_lengths: np.ndarray) -> np.ndarray:
    """Bytes of a POI (type-2) record with a name of ``name_lengths`` bytes (NUL included)."""
    return POI_HEADER_BYTES + np.asarray(name_lengths, dtype=np.int64)


@functools.lru_cache(maxsize=None)
def skipper_count(n: int, leaf_size: int = LEAF_SIZE) -> int:
    """Skipper records (tree nodes) ``build_forest`` makes for a root of ``n`` POIs: a node
    of more than ``leaf_size`` POIs splits into ``n // 2`` and ``n - n // 2``."""
    if n <= leaf_size:
        return 1
    half = n // 2
    return 1 + skipper_count(half, leaf_size) + skipper_count(n - half, leaf_size)


def ov2_bytes(record_bytes: int, n: int) -> int:
    """Size of an OV2 file of ``n`` POIs whose records sum to ``record_bytes``."""
    return int(record_bytes) + SKIPPER_BYTES * skipper_count(int(n))


X_OFFSET, Y_OFFSET, AXIS_BITS = 18_000_000, 9_000_000, 26  # file units shifted to 0 .. 2**26


def _grouped_order(root_of: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Point indices grouped by root, sorted by ``value`` (>= 0, < 2**26) inside a root, ties by index."""
    n = len(value)
    idx_bits = max(1, (n - 1).bit_length())
    root_bits = max(1, int(root_of[-1]).bit_length()) if n else 1
    if root_bits + AXIS_BITS + idx_bits <= 63:  # one packed int64 key: a fast SIMD sort, no argsort
        key = (root_of << (AXIS_BITS + idx_bits)) | (value << idx_bits) | np.arange(n, dtype=np.int64)
        return (np.sort(key) & ((1 << idx_bits) - 1)).astype(np.int64)
    return np.lexsort((np.arange(n), value, root_of))


def build_forest(x: np.ndarray, y: np.ndarray, root_sizes, leaf_size: int = LEAF_SIZE):
    """Skipper trees over points (x, y) in file units, one tree per root.

    The points of root r are the ``root_sizes[r]`` points after those of the roots before
    it. Built level by level over all trees at once with whole-array operations: each
    segment keeps its points twice, sorted by x and by y (``px``, ``py``); a split takes
    the first half in the order of the larger extent and stably partitions the other order.

    Returns (order, nodes): ``order`` = point indices in file order; ``nodes`` = dict of
    arrays ``start``, ``end`` (range in ``order``), ``depth``, ``west``, ``east``, ``south``,
    ``north``, in preorder (the order the skippers are written).
    """
    x = np.asarray(x, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    root_sizes = np.asarray(root_sizes, dtype=np.int64)
    n = len(x)
    ends = np.cumsum(root_sizes)
    starts = ends - root_sizes
    root_of = np.repeat(np.arange(len(root_sizes), dtype=np.int64), root_sizes)
    px = _grouped_order(root_of, x + X_OFFSET)
    py = _grouped_order(root_of, y + Y_OFFSET)
    it = np.int32 if n < 2**31 - 1 else np.int64  # positions: 32-bit halves the memory traffic
    px, py = px.astype(it), py.astype(it)
    pos = np.arange(n, dtype=it)
    left = np.zeros(n, dtype=bool)
    is_new = np.ones(len(starts), dtype=bool)
    out = {k: [] for k in ("start", "end", "depth", "west", "east", "south", "north")}
    depth = np.zeros(len(starts), dtype=np.int64)
    while True:
        west, east = x[px[starts]], x[px[ends - 1]]
        south, north = y[py[starts]], y[py[ends - 1]]
        for key, val in (("start", starts), ("end", ends), ("depth", depth), ("west", west), ("east", east),
                         ("south", south), ("north", north)):
            out[key].append(val[is_new])
        sizes = ends - starts
        split = sizes > leaf_size
        if not split.any():
            break
        # Leaves stay as they are: their "lower half" is all of them, so the partition is the identity.
        mids = np.where(split, starts + sizes // 2, ends)
        along_x = ((east - west) >= (north - south)).astype(it)
        seg_start = np.repeat(starts.astype(it), sizes)
        off = pos - seg_start                       # position inside the segment
        half = np.repeat((mids - starts).astype(it), sizes)
        # The order along the split axis ("sorted") keeps its order: its first half is the lower
        # half. The other order is stably partitioned: lower-half points first.
        along = np.repeat(along_x, sizes)
        sorted_, other = py + along * (px - py), px + along * (py - px)
        left[sorted_] = off < half
        lf = left[other]
        before = np.cumsum(lf, dtype=it)
        before -= lf                                   # lower-half points before each position
        before -= np.repeat(before[starts], sizes)     # ... counted from the segment's start
        # lower half: start + before; upper half: start + half + (off - before)
        new_pos = half + off - before
        new_pos -= lf * (new_pos - before)
        new_pos += seg_start
        other[new_pos] = other.copy()
        not_along = 1 - along
        px, py = sorted_ + not_along * (other - sorted_), other + not_along * (sorted_ - other)
        count = 1 + split
        first = np.cumsum(count) - count
        sp = np.nonzero(split)[0]
        new_starts, new_ends = np.repeat(starts, count), np.repeat(ends, count)
        new_ends[first[sp]] = mids[sp]
        new_starts[first[sp] + 1] = mids[sp]
        is_new = np.zeros(len(new_starts), dtype=bool)
        is_new[first[sp]] = is_new[first[sp] + 1] = True
        depth = np.repeat(depth, count) + is_new
        starts, ends = new_starts, new_ends
    nodes = {key: np.concatenate(val) for key, val in out.items()}
    preorder = np.lexsort((nodes["depth"], nodes["start"]))
    return px, {key: val[preorder] for key, val in nodes.items()}


ROWS_PER_CHUNK = 1 << 16   # records per byte matrix when a file is written (bounds the memory)
POIS_PER_BATCH = 1 << 18   # POIs whose skipper trees are built at once (a larger root is built alone)


class _Forest:
    """The skipper trees of some roots (``build_forest``) and how to write each as OV2 bytes."""

    def __init__(self, x: np.ndarray, y: np.ndarray, codes: np.ndarray, name_len: np.ndarray, root_sizes):
        order, nodes = build_forest(x, y, root_sizes)
        self.x, self.y = x[order], y[order]
        self.c = codes[order]
        rec_len = poi_record_lengths(name_len[self.c])
        n, m = len(order), len(nodes["start"])
        cum = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(rec_len, out=cum[1:])
        # Skippers in a subtree: every split makes two children, so 2 * leaves - 1.
        leaf_starts = nodes["start"][(nodes["end"] - nodes["start"]) <= LEAF_SIZE]
        leaves = np.searchsorted(leaf_starts, nodes["end"]) - np.searchsorted(leaf_starts, nodes["start"])
        block = SKIPPER_BYTES * (2 * leaves - 1) + cum[nodes["end"]] - cum[nodes["start"]]
        skip = np.zeros(m, dtype=_SKIPPER)
        skip["type"], skip["length"] = 1, block
        for corner in ("east", "north", "west", "south"):  # NE corner first, then SW (as GPSBabel writes)
            skip[corner] = nodes[corner]
        self.skip, self.rec_len = skip, rec_len
        # Every record is a row in file order: skipper j after j skippers and start_j POIs;
        # POI p after p POIs and the skippers starting at or before p.
        self.node_row = np.arange(m, dtype=np.int64) + nodes["start"]
        self.poi_row = np.arange(n, dtype=np.int64) + np.cumsum(np.bincount(nodes["start"], minlength=n)[:n])
        roots = np.flatnonzero(nodes["depth"] == 0)
        self.root_rows = np.append(self.node_row[roots], n + m)   # root r: rows root_rows[r] .. [r + 1]
        self.root_bytes = block[roots]

    def write(self, out, root: int, names_mat: np.ndarray, name_len: np.ndarray) -> None:
        """Root ``root``'s bytes to ``out``: rows of a byte matrix cut to their record lengths,
        ``ROWS_PER_CHUNK`` rows at a time."""
        name_width = names_mat.shape[1]
        width = max(SKIPPER_BYTES, POI_HEADER_BYTES + name_width)
        first, last = int(self.root_rows[root]), int(self.root_rows[root + 1])
        written = 0
        for r0 in range(first, last, ROWS_PER_CHUNK):
            r1 = min(r0 + ROWS_PER_CHUNK, last)
            j0, j1 = np.searchsorted(self.node_row, (r0, r1))
            p0, p1 = np.searchsorted(self.poi_row, (r0, r1))
            node_row, poi_row = self.node_row[j0:j1] - r0, self.poi_row[p0:p1] - r0
            c = self.c[p0:p1]
            head = np.zeros(p1 - p0, dtype=_POI_HEADER)
            head["type"], head["length"], head["x"], head["y"] = 2, self.rec_len[p0:p1], self.x[p0:p1], self.y[p0:p1]
            rows = np.empty((r1 - r0, width), dtype=np.uint8)
            rows[node_row, :SKIPPER_BYTES] = self.skip[j0:j1].view(np.uint8).reshape(-1, SKIPPER_BYTES)
            rows[poi_row, :POI_HEADER_BYTES] = head.view(np.uint8).reshape(-1, POI_HEADER_BYTES)
            rows[poi_row, POI_HEADER_BYTES:POI_HEADER_BYTES + name_width] = names_mat[c]
            row_len = np.empty(r1 - r0, dtype=np.int64)
            row_len[node_row], row_len[poi_row] = SKIPPER_BYTES, self.rec_len[p0:p1]
            written += out.write(cut_rows(rows, row_len))
        assert written == int(self.root_bytes[root])


def forest_writers(x: np.ndarray, y: np.ndarray, codes: np.ndarray, names: np.ndarray, root_sizes):
    """For each root in turn, a writer ``write(out)`` of its OV2 bytes: the POIs at (x, y)
    (file units) named ``names[codes]`` (``encode_names``), the roots' points one after the
    other. Trees are built for about ``POIS_PER_BATCH`` POIs at a time, when the first root
    of the batch is asked for; a writer is valid until the next one is taken."""
    names_mat, name_len = name_matrix(names)
    root_sizes = [int(k) for k in root_sizes]
    offsets = np.concatenate([[0], np.cumsum(root_sizes, dtype=np.int64)]).tolist()
    r = 0
    while r < len(root_sizes):
        stop = r + 1
        while stop < len(root_sizes) and offsets[stop + 1] - offsets[r] <= POIS_PER_BATCH:
            stop += 1
        a, b = offsets[r], offsets[stop]
        forest = _Forest(x[a:b], y[a:b], codes[a:b], name_len, root_sizes[r:stop])
        for k in range(stop - r):
            yield lambda out, k=k: forest.write(out, k, names_mat, name_len)
        del forest
        r = stop


def file_bases(cats: list[common.Category]) -> dict[str, str]:
    """File name (without extension) per category slug: the title, or title_slug when two
    titles give the same name."""
    bases: dict[str, str] = {}
    for cat in cats:
        base = file_stem(cat.title)
        if base in bases.values():
            base = f"{base}_{cat.slug}"
        bases[cat.slug] = base
    return bases


def package_layout(cats: list[common.Category], icon_sets: dict[str, dict[str, bytes]], options: ExportOptions):
    """(name, category, icon bytes or None for the POI file) of every file, in package order."""
    bases = file_bases(cats)
    for cat in cats:
        yield f"tomtom/{bases[cat.slug]}.ov2", cat, None
        yield f"tomtom/{bases[cat.slug]}.bmp", cat, icon_sets[options.icons][cat.slug]
    for icon_set in icons.ICON_SETS:
        for cat in cats:
            yield f"icons/{icon_set}/{bases[cat.slug]}.bmp", cat, icon_sets[icon_set][cat.slug]


def ov2_notes(options: ExportOptions, transliterated: int) -> list[str]:
    notes = [
        gettext("TomTom OV2 has no heading field: alerts are not direction-aware, the device warns near a camera "
                "whatever your direction of travel."),
        gettext("OV2 has no speed field: speed, red-light and section cameras are split into one file per speed "
                "limit, and the limit is part of each camera's name (for example 'Speed 50 A7')."),
        gettext("Each .ov2 comes with a .bmp icon of the same name (%(icons)s icon set). Both sets are in "
                "icons/speed and icons/fr-danger: to swap icons, copy the other set's .bmp over the one next to the "
                ".ov2 on the device.") % {"icons": options.icons},
    ]
    if transliterated:
        notes.append(ngettext(
            "%(count)s camera name had characters outside Windows-1252 (the OV2 text encoding) and was "
            "transliterated to Latin letters.",
            "%(count)s camera names had characters outside Windows-1252 (the OV2 text encoding) and were "
            "transliterated to Latin letters.", transliterated) % {"count": number(transliterated)})
    return notes


def _icon_sets(cats: list[common.Category]) -> dict[str, dict[str, bytes]]:
    return {s: icons.icon_files(cats, ICON_SIZE, ICON_BITS, s) for s in icons.ICON_SETS}


@register
class TomTomOV2(PoiExporter):
    identifier = "tomtom-ov2"
    verbose_name = gettext_noop("TomTom OV2 POI files")
    label = "TomTom OV2"
    file_extension = ".ov2"
    encoding = "cp1252"
    max_name_length = MAX_NAME
    speed_carried_as = "file"

    def render_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> RenderResult:
        x, y = round_half_away(lon, 1e5), round_half_away(lat, 1e5)
        codes, names, replaced = encode_names(cams)
        cats = common.categories(cams, by_speed=True)
        index = np.concatenate([cat.index for cat in cats])
        writers = forest_writers(x[index], y[index], codes[index], names, [len(cat.index) for cat in cats])
        del x, y, index
        files: list[OutputFile] = []
        for name, cat, icon in package_layout(cats, _icon_sets(cats), options):
            if icon is None:
                files.append(output_file(name, next(writers), options, cat.slug, len(cat.index)))
            else:
                files.append(OutputFile(name, icon, cat.slug, 0))
        return RenderResult(files=files, skipped={}, notes=ov2_notes(options, int(np.count_nonzero(replaced[codes]))))

    def size_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> PoiSizeParts:
        codes, names, replaced = encode_names(cams)
        name_len = name_matrix(names)[1]
        cats, group = category_groups(cams, by_speed=True)
        icon_sets = _icon_sets(cats)

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            present = [cats[k] for k in np.flatnonzero(tally.counts).tolist()]
            number = {cat.slug: k for k, cat in enumerate(cats)}
            files = []
            for name, cat, icon in package_layout(present, icon_sets, options):
                k = number[cat.slug]
                if icon is None:
                    count = int(tally.counts[k])
                    files.append(sizing.FileSize(name, cat.slug, count, ov2_bytes(tally.bytes[k], count)))
                else:
                    files.append(sizing.FileSize(name, cat.slug, 0, len(icon)))
            return sizing.SizedExport(files, {}, ov2_notes(options, tally.flags["transliterated"]))

        return PoiSizeParts(group, poi_record_lengths(name_len)[codes], len(cats), layout,
                            {"transliterated": replaced[codes]})
