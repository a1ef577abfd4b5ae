"""TomTom OV2: one POI file per category and speed, each with a same-name 22x22 icon.

Layout (``/work/shared/formats/tomtom-ov2.md``): little-endian records, coordinates
degrees x 100 000 rounded to nearest (halves away from zero; GPSBabel 1.8 truncates
``x + 0.5`` and so biases negative coordinates). Every file is a skipper tree: each node is
a type-1 record (21 bytes: type, block length, NE corner then SW corner, as GPSBabel and
ov2optimizer write it) followed by its two children, or by its POIs (type-2 records) for
a leaf of at most ``LEAF_SIZE`` POIs. A node splits at the median along its larger extent
(x or y, in file units). Block lengths count the bytes actually written.

OV2 has no speed and no heading: speed cameras are split per speed limit (file) and carry
the limit in the POI name ("Speed 50 A7"); alerts are proximity-only, both directions.
Names are Windows-1252 (GPSBabel's choice, the safe one for legacy NavCore); characters the
code page lacks are transliterated ("Łódź" -> "Lódz", Cyrillic/Greek to Latin).

Package layout::

    tomtom/<Category>.ov2                the POIs
    tomtom/<Category>.bmp                icon of the chosen set (options.icons), 22x22, 4-bit
    icons/speed/<Category>.bmp           both icon sets, so the customer can swap icons on the
    icons/fr-danger/<Category>.bmp       device by copying the other .bmp next to the .ov2

Everything is built with numpy over whole columns: names once per distinct (type, speed,
road), the skipper trees of all files level by level at once, the records as rows of one
byte matrix (200 000 cameras render in well under 0.2 s, GPSBabel needs about 1.6 s).
"""

from __future__ import annotations

import numpy as np

from .. import common, icons
from ..base import CameraSet, ExportOptions, OutputFile, RenderResult, register
from ..textrows import group_codes
from ._bulk import PoiExporter, clean_text, cut_rows, file_stem, padded, round_half_away, to_codepage

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


def encode_names(cameras: CameraSet, max_len: int = MAX_NAME) -> tuple[np.ndarray, list[bytes], int]:
    """(code per camera, cp1252 name bytes per code with the NUL, cameras whose name was transliterated).

    Names come from ``common.poi_names`` ("Speed 50 Rue de Rivoli"), built once per distinct
    (type, speed, road).
    """
    codes, first = group_codes(cameras["type"], cameras["speed"], cameras["road"])
    names = common.poi_names(cameras.take(first), max_len=None)
    out, changed = [], []
    for code, name in enumerate(names):
        text, replaced = to_codepage(clean_text(name), max_len)
        if replaced:
            changed.append(code)
        out.append(text + b"\0")
    cameras_changed = int(np.isin(codes, changed).sum()) if changed else 0
    return codes, out, cameras_changed


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


def write_forest(x: np.ndarray, y: np.ndarray, codes: np.ndarray, names: list[bytes], root_sizes) -> list[bytes]:
    """OV2 bytes per root: the POIs at (x, y) (file units) named ``names[codes]``, root after root."""
    order, nodes = build_forest(x, y, root_sizes)
    names_mat, name_len = padded(names)
    c = codes[order]
    rec_len = POI_HEADER_BYTES + name_len[c]
    n, m = len(order), len(nodes["start"])
    cum = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(rec_len, out=cum[1:])
    # Skippers in a subtree: every split makes two children, so 2 * leaves - 1.
    leaf_starts = nodes["start"][(nodes["end"] - nodes["start"]) <= LEAF_SIZE]
    leaves = np.searchsorted(leaf_starts, nodes["end"]) - np.searchsorted(leaf_starts, nodes["start"])
    block = SKIPPER_BYTES * (2 * leaves - 1) + cum[nodes["end"]] - cum[nodes["start"]]

    # Offsets: skipper j (preorder) follows j skippers and the POIs before its start; POI p
    # follows every skipper whose start is <= p.
    node_off = cum[nodes["start"]] + SKIPPER_BYTES * np.arange(m, dtype=np.int64)
    total = int(cum[-1]) + SKIPPER_BYTES * m

    skip = np.zeros(m, dtype=_SKIPPER)
    skip["type"], skip["length"] = 1, block
    for corner in ("east", "north", "west", "south"):  # NE corner first, then SW (as GPSBabel writes)
        skip[corner] = nodes[corner]
    head = np.zeros(n, dtype=_POI_HEADER)
    head["type"], head["length"], head["x"], head["y"] = 2, rec_len, x[order], y[order]

    # Every record is a row of a byte matrix in file order (skipper j after j skippers and
    # start_j POIs; POI p after p POIs and the skippers starting at or before p); the file
    # is the matrix with each row cut to its record length.
    name_width = names_mat.shape[1]
    width = max(SKIPPER_BYTES, POI_HEADER_BYTES + name_width)
    skippers_upto = np.cumsum(np.bincount(nodes["start"], minlength=n)[:n])
    node_row = np.arange(m, dtype=np.int64) + nodes["start"]
    poi_row = np.arange(n, dtype=np.int64) + skippers_upto
    rows = np.empty((m + n, width), dtype=np.uint8)
    rows[node_row, :SKIPPER_BYTES] = skip.view(np.uint8).reshape(m, SKIPPER_BYTES)
    rows[poi_row, :POI_HEADER_BYTES] = head.view(np.uint8).reshape(n, POI_HEADER_BYTES)
    rows[poi_row, POI_HEADER_BYTES:POI_HEADER_BYTES + name_width] = names_mat[c]
    row_len = np.empty(m + n, dtype=np.int64)
    row_len[node_row], row_len[poi_row] = SKIPPER_BYTES, rec_len
    data = cut_rows(rows, row_len)
    assert len(data) == total
    roots = nodes["depth"] == 0
    root_off, root_len = node_off[roots], block[roots]
    return [data[int(o):int(o + l)] for o, l in zip(root_off, root_len)]


def write_ov2(x: np.ndarray, y: np.ndarray, codes: np.ndarray, names: list[bytes]) -> bytes:
    """The bytes of one OV2 file."""
    return write_forest(x, y, codes, names, [len(x)])[0]


@register
class TomTomOV2(PoiExporter):
    identifier = "tomtom-ov2"
    verbose_name = "TomTom OV2 POI files"
    label = "TomTom OV2"
    file_extension = ".ov2"
    encoding = "cp1252"
    max_name_length = MAX_NAME
    speed_carried_as = "file"

    def render_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> RenderResult:
        x, y = round_half_away(lon, 1e5), round_half_away(lat, 1e5)
        codes, names, transliterated = encode_names(cams)
        files: list[OutputFile] = []
        cats = common.categories(cams, by_speed=True)
        bases = {}
        for cat in cats:
            base = file_stem(cat.title)
            if base in bases.values():
                base = f"{base}_{cat.slug}"
            bases[cat.slug] = base
        icon_sets = {s: icons.icon_files(cats, ICON_SIZE, ICON_BITS, s) for s in icons.ICON_SETS}
        index = np.concatenate([cat.index for cat in cats])
        datas = write_forest(x[index], y[index], codes[index], names, [len(cat.index) for cat in cats])
        for cat, data in zip(cats, datas):
            base = bases[cat.slug]
            files.append(OutputFile(f"tomtom/{base}.ov2", data, cat.slug, len(cat.index)))
            files.append(OutputFile(f"tomtom/{base}.bmp", icon_sets[options.icons][cat.slug], cat.slug, 0))
        for icon_set in icons.ICON_SETS:
            for cat in cats:
                files.append(OutputFile(f"icons/{icon_set}/{bases[cat.slug]}.bmp", icon_sets[icon_set][cat.slug],
                                        cat.slug, 0))
        notes = [
            "TomTom OV2 has no heading field: alerts are not direction-aware, the device warns near a camera "
            "whatever your direction of travel.",
            "OV2 has no speed field: speed, red-light and section cameras are split into one file per speed "
            "limit, and the limit is part of each camera's name (for example 'Speed 50 A7').",
            f"Each .ov2 comes with a .bmp icon of the same name ({options.icons} icon set). Both sets are in "
            "icons/speed and icons/fr-danger: to swap icons, copy the other set's .bmp over the one next to the "
            ".ov2 on the device.",
        ]
        if transliterated:
            notes.append(f"{transliterated} camera name(s) had characters outside Windows-1252 (the OV2 text "
                         "encoding) and were transliterated to Latin letters.")
        return RenderResult(files=files, skipped={}, notes=notes)
