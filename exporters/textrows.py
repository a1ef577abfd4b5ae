"""Fast text output for the text formats (GPX, KML, CSV, GeoJSON): rows built column by
column, not row by row.

A writer describes a row as a list of *pieces*: a constant string, or a column (one string
per row). ``write_rows`` interleaves the columns of a chunk of rows into one flat list,
joins it once (``str.join`` over ready-made strings is the cheapest per-item operation
Python has), encodes the chunk and appends it to the output. No Python code runs per camera
except inside C-level list and string operations.

The columns come from helpers that avoid formatting values one by one:

* ``number_pieces``: a number column as a few pieces, each a lookup in a small cached table
  (the integer part in groups of three digits with an optional prefix and sign, the
  decimals in groups of three, an optional suffix), indexed by integer arithmetic in
  numpy: fixed decimals, no exponent, no "-0", optional trailing-zero trimming; a row
  without a value gives nothing (or ``missing``);
* ``texts``: a text column joined with NUL into one string, escaped with a few C-level
  ``str.replace`` calls (``xml_escape``, ``json_escape``), optionally wrapped in tags, and
  split again; ``csv_column`` quotes only the values that need it (found with numpy);
* ``group_codes``: one code per distinct combination of small integer columns, so names,
  comments and attribute runs are built once per combination and picked by code;
  ``ChunkTexts`` does the same a chunk of rows at a time, for texts that may take a million
  distinct values (names from roads): it never holds a table of all of them.

Chunks are 4,096 rows by default: big enough to amortise the numpy calls, small enough that
the temporary strings are reused by the allocator instead of being page-faulted in afresh.
Memory is the output plus one chunk; ``collect`` hands the ``BytesIO`` buffer over without a
final copy. Plain Python + numpy; no Django.
"""

from __future__ import annotations

import ctypes
import io
import mmap
import re
import sys
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import numpy as np

CHUNK_ROWS = 4096
_SEP = "\x00"  # joins a text column; removed from values first, never produced by escaping
_POW10 = 10 ** np.arange(19, dtype=np.int64)


# ---------------------------------------------------------------------------------------
# Escaping (applied to a whole column joined with NUL)

# Characters XML 1.0 does not allow (NUL is handled separately as the column separator).
_XML_INVALID = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# The characters of ``_XML_INVALID`` below 128: an ASCII text is checked with one C-level
# bytes.translate (much faster than the regular expression's scan), others with the expression.
_XML_INVALID_ASCII = bytes([*range(1, 9), 11, 12, *range(14, 32)])


def _has_xml_invalid(text: str) -> bool:
    if text.isascii():
        data = text.encode("ascii")
        return len(data.translate(None, _XML_INVALID_ASCII)) != len(data)
    return _XML_INVALID.search(text) is not None


def xml_escape_invalid(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (see ``xml_escape``)."""
    return _XML_INVALID.sub("", text) if _has_xml_invalid(text) else text


def xml_escape(text: str) -> str:
    """Escape ``& < > "`` (for text and double-quoted attributes), keep CR as ``&#13;`` (a
    parser would turn a raw CR into LF), and strip what XML 1.0 forbids: C0 controls other
    than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF."""
    if _has_xml_invalid(text):
        text = _XML_INVALID.sub("", text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


_JSON_CONTROL = re.compile("[\x01-\x1f]")
_JSON_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _json_control(match: re.Match) -> str:
    ch = match.group(0)
    return _JSON_SHORT.get(ch) or f"\\u{ord(ch):04x}"


def json_escape(text: str) -> str:
    """The inside of a JSON string literal (RFC 8259): backslash, quote and control characters
    escaped; lone surrogates (not encodable as UTF-8, and unpredictable for JSON readers even
    as ``\\uXXXX`` escapes) become U+FFFD."""
    text = replace_surrogates(text)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if '"' in text:
        text = text.replace('"', '\\"')
    if _JSON_CONTROL.search(text):
        text = _JSON_CONTROL.sub(_json_control, text)
    return text


_SURROGATES = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def replace_surrogates(text: str) -> str:
    """``text`` with every lone surrogate (a str from a bad decode; UTF-8 cannot encode it)
    made U+FFFD, the Unicode replacement character."""
    if text.isascii() or not _SURROGATES.search(text):
        return text
    return _SURROGATES.sub(REPLACEMENT, text)


_CSV_SPECIAL = re.compile('[",\r\n]')


def csv_quote(text: str) -> str:
    """``text`` as a quoted CSV field, quotes doubled (lone surrogates made U+FFFD)."""
    text = replace_surrogates(text)
    return '"' + text.replace('"', '""') + '"'


def csv_field(text: str) -> str:
    """An RFC 4180 field: quoted (quotes doubled) when it holds a comma, quote or line break
    (lone surrogates made U+FFFD, see ``replace_surrogates``)."""
    text = replace_surrogates(text)
    if _CSV_SPECIAL.search(text):
        return csv_quote(text)
    return text


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = "=+-@\t\r"
_FORMULA_BYTES = np.frombuffer(FORMULA_STARTS.encode("ascii"), dtype=np.uint8)
_FORMULA_AT_START = re.compile("(?:^|\x00)[=+\\-@\t\r]")  # a value of a NUL-joined column


def csv_text(text: str, *, quote: bool = False) -> str:
    """A *text* cell of a CSV file, safe to open in a spreadsheet: the one rule every CSV
    writer of the exporters applies (numbers are written as they are, never passed here).

    A text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a CR would run as a formula
    in Excel or LibreOffice (``=HYPERLINK(...)``, ``-2+3``, ``@SUM(...)``): it gets a single
    quote in front and is quoted, as OWASP's "CSV Injection" page advises ("'=1" shows as
    text). Any other text is quoted when it holds a comma, a quote or a line break (RFC
    4180), or always with ``quote``. Quotes are doubled; lone surrogates become U+FFFD."""
    text = replace_surrogates(text)
    if text and text[0] in FORMULA_STARTS:
        return "\"'" + text.replace('"', '""') + '"'
    if quote or _CSV_SPECIAL.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_column(values: Sequence | np.ndarray, after: str = "") -> list[str]:
    """``csv_text(value) + after`` for a text column. The values that need quotes or the
    formula guard are found with numpy on the joined column, so only those are handled one
    by one."""
    values = strings(values)
    if not values:
        return values
    joined = _SEP.join(values)
    clean = replace_surrogates(joined)
    if clean is not joined:  # lone surrogates: U+FFFD (the column stays one value per row)
        joined = clean
        values = joined.split(_SEP)
    if _CSV_SPECIAL.search(joined) or _FORMULA_AT_START.search(joined):
        buf = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
        value_of_byte = np.cumsum(buf == 0)  # the value each byte belongs to
        starts = np.flatnonzero(buf == 0) + 1
        starts = np.concatenate(([0], starts[starts < len(buf)]))
        risky = starts[np.isin(buf[starts], _FORMULA_BYTES)]  # first bytes that start a formula
        special = (buf == 34) | (buf == 44) | (buf == 13) | (buf == 10)
        values = list(values)
        for i in np.union1d(value_of_byte[special], value_of_byte[risky]).tolist():
            values[i] = csv_text(values[i])
        joined = _SEP.join(values)
    if not after:
        return values
    return (joined.replace(_SEP, after + _SEP) + after).split(_SEP)


# ---------------------------------------------------------------------------------------
# Columns


def strings(values: Sequence | np.ndarray) -> list[str]:
    """A text column as a list of str: ``None`` -> "", NUL characters dropped."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    try:
        joined = _SEP.join(values)
    except TypeError:
        values = ["" if v is None else str(v) for v in values]
        joined = _SEP.join(values)
    if values and joined.count(_SEP) != len(values) - 1:
        values = [v.replace(_SEP, "") for v in values]
    return values


def texts(values: Sequence | np.ndarray, escape: Callable[[str], str] | None = None,
          before: str = "", after: str = "", always: bool = False) -> list[str]:
    """A text column escaped as a whole (joined with NUL, escaped, split again).

    With ``before``/``after`` each value is wrapped (``<desc>`` ... ``</desc>``); an empty
    value gives "" (the element is left out) unless ``always``.
    """
    values = strings(values)
    if not values:
        return values
    joined = _SEP.join(values)
    if escape is not None:
        joined = escape(joined)
    if not (before or after):
        return joined.split(_SEP) if escape is not None else values
    wrapped = before + joined.replace(_SEP, after + _SEP + before) + after
    empty = before + after
    if not always and empty in wrapped:
        # empty values (or nothing left after escaping) give "": each value lies between two
        # separators (one put at each end here); a pass replaces every other one of adjacent
        # empty values (they share a separator), so two passes replace all of them
        framed = _SEP + wrapped + _SEP
        whole = _SEP + empty + _SEP
        if whole in framed:
            framed = framed.replace(whole, _SEP + _SEP).replace(whole, _SEP + _SEP)
            wrapped = framed[1:-1]
    return wrapped.split(_SEP)


def distinct(values: np.ndarray) -> list:
    """The distinct values, sorted, as Python objects. Not ``np.unique``: its first plain call
    imports numpy.ma (10 to 40 ms of a cold package build)."""
    return sorted(set(values.tolist()))


def factorize(values: Sequence | np.ndarray) -> tuple[np.ndarray, list]:
    """(code per value, distinct values in first-seen order)."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    uniq = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(uniq)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int32 if len(uniq) < 2**31 else np.int64,
                        count=len(values))
    return codes, uniq


def _compact(key: np.ndarray, span: int) -> tuple[np.ndarray, int]:
    """Renumber ``key`` (values below ``span``) to 0..k-1 keeping their order."""
    if span <= 8 * len(key) + 4096:  # a table over the span: at most 5 bytes per value of it
        present = np.zeros(span, dtype=bool)
        present[key] = True
        rank = np.cumsum(present, dtype=np.int32 if span < 2**31 else np.int64)
        rank -= 1
        return rank[key].astype(np.int64), int(rank[-1]) + 1
    inverse = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return inverse, int(inverse.max()) + 1


def group_codes(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with equal values in all ``columns`` share a code.

    Returns (code per row, the first row of each code), so that a per-row function runs
    once per distinct combination (e.g. a name from type, speed and road). Integer columns
    are used as they are, text (object) columns through ``factorize`` (first-seen order).
    Codes follow the sorted order of the combined values: deterministic for the same input.
    """
    n = len(columns[0])
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = None  # all zeros until a column with more than one value
    span = 1
    for col in columns:
        col = np.asarray(col)
        if col.dtype == object:
            col = factorize(col)[0]
        if col.dtype.kind in "biu":  # min and max on the column as it is, one int64 copy made
            lo = int(col.min())
            width = int(col.max()) - lo + 1
            if width <= 1:
                continue
            col = np.subtract(col, lo, dtype=np.int64)
        else:
            col = col.astype(np.int64)
            lo = int(col.min())
            width = int(col.max()) - lo + 1
            if width <= 1:
                continue
            col = col - lo
        if width > 4 * n + 1024:  # a wide column (ids, codes of many values): renumber it first
            col, width = _compact(col, width)
        if key is None:
            key = col
        else:
            if span * width > 4 * n + 1024:
                # keep the combined key small: renumber what is used *before* widening it, so
                # the renumbering takes the table path of ``_compact`` (a sort otherwise)
                key, span = _compact(key, span)
            key *= width
            key += col
        span *= width
    key, span = _compact(np.zeros(n, np.int64) if key is None else key, span)
    representative = np.empty(span, np.int64)
    representative[key[::-1]] = np.arange(n - 1, -1, -1)  # the last write is the first row
    return key.astype(np.int32) if span < 2**31 else key, representative


def codes_of(column: np.ndarray) -> np.ndarray:
    """``column`` as integers with equal values sharing a code: integer columns as they are,
    text (object) columns factorized (``factorize``)."""
    column = np.asarray(column)
    if column.dtype != object:
        return column
    return factorize(column)[0]


TEXT_CACHE = 1 << 16  # distinct texts ``ChunkTexts`` keeps across chunks at most (then it starts afresh)


class ChunkTexts:
    """Text per row made once per distinct combination of ``columns`` (e.g. a name from
    type, speed and road), a chunk of rows at a time: the combinations are coded once for all
    rows (``group_codes``); ``texts(idx)`` looks the codes of the rows ``idx`` up in a cache
    (an array by code) and calls ``build(rows)`` (camera rows, one per missing combination;
    a list of str) for the others only.

    Few combinations (the usual case) are built once for the whole file; with a distinct
    text per camera (a million roads) the cache is emptied whenever it would exceed
    ``TEXT_CACHE`` entries, so no table of every text ever exists. A text depends only on
    its combination: chunks and the cache never change the result.

    When most rows of a chunk have a text not made before, the cache does not pay: from then
    on ``build`` gets the rows of each chunk as they are (it makes a text once per distinct
    combination among them, as ``common.poi_names`` does).

    With one text column the cache is a dict by value instead (no codes: factorizing the
    column cost more than the lookups), with the same limits and the same texts."""

    def __init__(self, columns: Sequence[np.ndarray], build: Callable[[np.ndarray], list[str]]):
        self.columns, self.build = tuple(columns), build
        self.direct = False
        self.keys: np.ndarray | None = None  # code per row of the combined columns, made on first use
        self.cache: np.ndarray | None = None  # text per code (None: not made, or dropped)
        self.cached: np.ndarray | None = None  # per code: whether ``cache`` holds its text
        self.size = 0  # texts ``cache`` holds
        # one text column (a description, a road): texts looked up by the value itself in a
        # dict, a chunk at a time (``_by_value``), so the column is never factorized
        column = np.asarray(self.columns[0]) if len(self.columns) == 1 else None
        self.values = column if column is not None and column.dtype == object else None
        self.memo: dict = {}

    def _by_value(self, idx: np.ndarray) -> list[str]:
        """``__call__`` for one text column: the texts of the values of rows ``idx`` from
        ``memo`` (value -> text), ``build`` called with one row per value not in it."""
        values = self.values[idx].tolist()
        memo = self.memo
        try:
            return list(map(memo.__getitem__, values))
        except (KeyError, TypeError):  # a value not made yet (or unhashable: no memo for it)
            pass
        try:
            first = dict(zip(reversed(values), range(len(values) - 1, -1, -1)))  # value -> its first row
        except TypeError:
            self.direct = True
            return list(self.build(idx))
        new = [v for v in first if v not in memo]
        if 2 * len(new) > len(values) and len(values) >= 64:  # mostly new texts: no memo from now on
            self.direct = True
            self.memo = {}
            return list(self.build(idx))
        if len(memo) + len(new) > TEXT_CACHE:
            memo.clear()
            new = list(first)
        at = np.fromiter(map(first.__getitem__, new), dtype=np.int64, count=len(new))
        memo.update(zip(new, self.build(idx[at])))
        return list(map(memo.__getitem__, values))

    def _row_keys(self) -> np.ndarray:
        """One code per row (0..k-1) for the combination of ``columns``, for all rows at once
        (cheaper than grouping the columns chunk by chunk): equal combinations, equal codes."""
        if self.keys is None:
            self.keys, first = group_codes(*(codes_of(col) for col in self.columns))
            self.cache = np.full(len(first), None, dtype=object)
            self.cached = np.zeros(len(first), dtype=bool)
        return self.keys

    def __call__(self, idx: np.ndarray) -> list[str]:
        if not len(idx):
            return []
        if self.direct:
            return list(self.build(idx))
        if self.values is not None:
            return self._by_value(idx)
        codes = self._row_keys()[idx]
        cache, cached = self.cache, self.cached
        missing = ~cached[codes]
        if not missing.any():
            return cache[codes].tolist()
        out = cache[codes]  # the texts made before (taken before the cache may be emptied below)
        at = np.flatnonzero(missing)
        new_codes, first = np.unique(codes[at], return_index=True)  # each missing combination once
        built = np.empty(len(new_codes), dtype=object)
        built[:] = list(self.build(idx[at[first]]))
        if 2 * len(new_codes) > len(idx) and len(idx) >= 64:  # mostly new texts: no cache from now on
            self.direct = True
            self.cache = self.cached = None
            self.size = 0
        else:
            if self.size + len(new_codes) > TEXT_CACHE:
                cache[:] = None
                cached[:] = False
                self.size = 0
            cache[new_codes] = built
            cached[new_codes] = True
            self.size += len(new_codes)
        out[at] = built[np.searchsorted(new_codes, codes[at])]
        return out.tolist()


# ---------------------------------------------------------------------------------------
# Numbers


def _mod(values: np.ndarray, m, quotient: np.ndarray | None = None) -> np.ndarray:
    """``values % m`` (floored, as numpy's) for an integer array and a positive integer: as
    ``values - (values // m) * m``, since numpy divides by a scalar several times faster
    than it takes a remainder (``divmod`` and ``%`` have no such fast path); ``quotient``:
    ``values // m`` when already known. Exact in int64's wrap-around arithmetic."""
    q = values // m if quotient is None else quotient
    return values - q * m


@lru_cache(maxsize=256)
def _table(kind: str, width: int, prefix: str, suffix: str, trim: bool = False, missing: str = "",
           keep: int = 0) -> np.ndarray:
    """Small string tables the number pieces are looked up in (last entry: ``missing``, for
    rows without a value).

    ``lead``: prefix + group value without padding, then the same with "-" (2000 entries);
    ``lead+group``: that, then the zero-padded three-digit groups (index 3000: nothing);
    ``group``: zero-padded groups of ``width`` digits; ``fraction``: "." + ``width``
    digits. With ``trim``, ``group`` and ``fraction`` come twice: first without trailing
    zeros (at least ``keep`` digits; a bare "." dropped), then in full (for a group
    followed by non-zero digits). ``suffix`` follows every entry.
    """
    if kind in ("lead", "lead+group"):
        entries = [f"{prefix}{v}" for v in range(1000)] + [f"{prefix}-{v}" for v in range(1000)]
        if kind == "lead+group":  # then the padded groups: one table for every group position
            entries += [f"{v:03d}" for v in range(1000)]
    else:
        point = "." if kind == "fraction" else ""
        full = [f"{v:0{width}d}" for v in range(10 ** width)]
        digits = [d[:max(len(d.rstrip("0")), keep)] for d in full] + full if trim else full
        entries = [f"{prefix}{point}{d}" if d else prefix for d in digits]
    table = np.empty(len(entries) + 1, dtype=object)
    table[:-1] = [e + suffix for e in entries]
    table[-1] = missing
    return table


def number_codes(values: np.ndarray, decimals: int = 0, *, trim: bool = False, keep: int = 0,
                 scaled: bool = False, when: np.ndarray | None = None, prefix: str = "", suffix: str = "",
                 missing: str = "") -> list[tuple[np.ndarray, np.ndarray]]:
    """``prefix + number + suffix`` per row as a few pieces, each (a table code per row, the
    table of strings): ``table[code]`` is the piece (``number_pieces``); where the value
    is NaN or ``when`` is false, the pieces give ``missing`` (default: nothing).

    Integers are written as they are, or with ``scaled`` as fixed-point numbers in units of
    10**-``decimals`` (rounded by the caller: 48856613 with 6 decimals is "48.856613");
    floats with ``decimals`` decimals (the scaled value rounded half to even, as numpy's
    ``rint``). With ``trim`` trailing zeros are dropped, down to ``keep`` decimals ("90",
    "12.5"; keep=1: "90.0"). Never an exponent, never "-0".

    Each piece is a lookup in a small table (a group of three digits, the fraction), so no
    string is formatted per row: cheaper than ``"%.6f" % x`` by about half once joined.
    """
    v = np.asarray(values)
    n = len(v)
    is_float = v.dtype.kind == "f"
    if scaled and is_float:
        raise ValueError("scaled numbers are integers (units of 10**-decimals)")
    ok = ~np.isnan(v) if is_float else np.ones(n, bool)
    if when is not None:
        ok &= when
    d = decimals if is_float or scaled else 0
    if not 0 <= keep <= min(d, 3):
        raise ValueError(f"keep={keep}: at most the decimals written, and at most 3")
    all_ok = bool(ok.all())
    src = v if all_ok else np.where(ok, v, 0)
    if is_float:
        q = np.rint(src.astype(np.float64) * 10.0 ** d).astype(np.int64)
    else:
        q = src.astype(np.int64)
    neg = q < 0
    a = np.abs(q)
    wrapped = bool(n) and int(a.min()) < 0  # a value beyond int64 once scaled: keep every modulo as before
    if d:
        whole = a // _POW10[d]
        frac = _mod(a, _POW10[d], whole)
    else:
        whole = a
    groups = 1  # groups of three digits in the largest integer part
    while groups < 7 and n and int(whole.max()) >= _POW10[3 * groups]:
        groups += 1
    used = np.ones(n, np.int64)  # groups of each row
    for k in range(1, groups):
        used += whole >= _POW10[3 * k]
    lead_at = groups - used
    parts: list[tuple[np.ndarray, str, int, str, bool, int]] = []  # (codes, kind, width, prefix, trim, keep)
    for j in range(groups):
        div = _POW10[3 * (groups - 1 - j)]
        value = whole // div if div > 1 else whole
        if j or wrapped:  # the first group is below 1000 already (``groups`` is chosen so)
            value = _mod(value, 1000)
        if groups == 1:
            parts.append((value + 1000 * neg, "lead", 3, prefix, False, 0))
        else:
            # before the leading group: nothing; the leading group: unpadded with prefix and
            # sign; after it: padded groups. Index 3000 of the combined table is "".
            code = np.where(j < lead_at, 3000, np.where(j == lead_at, value + 1000 * neg, 2000 + value))
            parts.append((code, "lead+group", 3, prefix, False, 0))
    if d:
        for start in range(0, d, 3):
            width = min(3, d - start)
            rest = d - start - width  # digits after this group
            value = frac // _POW10[rest] if rest else frac
            if start or wrapped:  # the first group is below 10**width already
                value = _mod(value, _POW10[width])
            if trim and rest:  # non-zero digits follow: the group in full (second half of the table)
                value = value + _POW10[width] * (_mod(frac, _POW10[rest]) != 0)
            parts.append((value, "fraction" if start == 0 else "group", width, "", trim, keep if start == 0 else 0))
    pieces = []
    for i, (code, kind, width, pre, trimmed, kept) in enumerate(parts):
        last = i == len(parts) - 1
        table = _table(kind, width, pre, suffix if last else "", trimmed, missing if last else "", kept)
        empty = len(table) - 1
        if not all_ok:
            code = np.where(ok, code, empty)
        pieces.append((code.astype(np.int16 if len(table) < 2**15 else np.int32), table))
    return pieces


def number_pieces(values: np.ndarray, decimals: int = 0, **kwargs) -> list[list[str]]:
    """``prefix + number + suffix`` per row as a few pieces (lists of str); see ``number_codes``
    for the options."""
    return [table[code].tolist() for code, table in number_codes(values, decimals, **kwargs)]


class NumberColumn:
    """``number_pieces`` of a whole column, the numpy work done once for all rows (a table
    code per row and piece: 2 bytes each); ``column(idx)`` gives the pieces of rows ``idx``.
    A row's text is the same as ``number_pieces`` of any chunk holding it gives (a chunk may
    need fewer groups of digits: a group before the leading one is "")."""

    def __init__(self, values: np.ndarray, decimals: int = 0, **kwargs):
        self.args = (values, decimals, kwargs)
        self.codes: list[tuple[np.ndarray, np.ndarray]] | None = None

    def __call__(self, idx: np.ndarray) -> list[list[str]]:
        if self.codes is None:
            values, decimals, kwargs = self.args
            self.codes = number_codes(values, decimals, **kwargs)
        return [table[code[idx]].tolist() for code, table in self.codes]


def numbers(values: np.ndarray, decimals: int = 0, **kwargs) -> list[str]:
    """``number_pieces`` joined per row: one string per row (for sparse columns)."""
    pieces = number_pieces(values, decimals, **kwargs)
    return list(map("".join, zip(*pieces))) if len(pieces) > 1 else pieces[0]


def number_pairs(first: np.ndarray, second: np.ndarray, decimals: int, *, when: np.ndarray | None = None,
                 prefix: str = "", middle: str = "", suffix: str = "", missing: str = "") -> list[str]:
    """``prefix + first + middle + second + suffix`` per row, ``missing`` where either is NaN
    or not ``when`` (an optional end point, or a coordinate pair of a few rows)."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    ok = ~np.isnan(first) & ~np.isnan(second)
    if when is not None:
        ok &= when
    sel = np.flatnonzero(ok)
    result = np.full(len(first), missing, dtype=object)
    if len(sel):
        result[sel] = list(map(str.__add__, numbers(first[sel], decimals, prefix=prefix, suffix=middle),
                               numbers(second[sel], decimals, suffix=suffix)))
    return result.tolist()


# ---------------------------------------------------------------------------------------
# Rows


Piece = str | list  # a constant, or one string per row


def join_rows(pieces: Sequence[Piece], count: int) -> str:
    """Row i is the concatenation of piece[i] (or the constant) over all pieces."""
    k = len(pieces)
    flat: list = [None] * (k * count)
    for j, piece in enumerate(pieces):
        flat[j::k] = [piece] * count if isinstance(piece, str) else piece
    return "".join(flat)


def row_sizes(rows: np.ndarray, make: Callable[[np.ndarray], Sequence[Piece]], chunk: int | None = None,
              encoding: str = "utf-8") -> np.ndarray:
    """The encoded length (bytes) of each row ``write_rows(out, rows, make, ...)`` writes,
    as int64, without keeping the rows: size models sum them. Each chunk is built by the
    same ``make`` and joined with a NUL after every row; the NUL bytes of the encoded chunk
    give the row ends (a chunk with a NUL inside a row is measured row by row)."""
    chunk = chunk or CHUNK_ROWS
    rows = np.asarray(rows, dtype=np.int64)
    result = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(rows), chunk):
        idx = rows[start:start + chunk]
        pieces = list(make(idx))
        data = join_rows(pieces + [_SEP], len(idx)).encode(encoding)
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0)
        if len(ends) == len(idx):
            result[start:start + len(idx)] = np.diff(ends, prepend=-1) - 1
        else:
            columns = [[p] * len(idx) if isinstance(p, str) else p for p in pieces]
            result[start:start + len(idx)] = [len("".join(row).encode(encoding)) for row in zip(*columns)]
    return result


def write_rows(out: io.BytesIO, rows: np.ndarray, make: Callable[[np.ndarray], Sequence[Piece]],
               chunk: int | None = None, encoding: str = "utf-8") -> None:
    """Render ``rows`` (camera row indices, in output order) a chunk at a time into ``out``;
    ``make(index)`` returns the pieces of the rows ``index`` (a pure function of those rows,
    so that any chunk size gives the same bytes); ``chunk`` defaults to ``CHUNK_ROWS``."""
    chunk = chunk or CHUNK_ROWS
    rows = np.asarray(rows, dtype=np.int64)
    for start in range(0, len(rows), chunk):
        idx = rows[start:start + chunk]
        out.write(join_rows(make(idx), len(idx)).encode(encoding))


def write_parts(out, parts: Iterable[bytes | str | Callable[[io.BytesIO], None]]) -> None:
    """Write strings (UTF-8), bytes and writer callbacks (``part(out)``) to ``out`` in order."""
    for part in parts:
        if isinstance(part, str):
            out.write(part.encode("utf-8"))
        elif isinstance(part, (bytes, bytearray, memoryview)):
            out.write(part)
        else:
            part(out)


def collect(parts: Iterable[bytes | str | Callable[[io.BytesIO], None]]) -> bytes:
    """Concatenate strings, bytes and writer callbacks into one bytes object.

    The buffer (``OutputBuffer``) is handed over by ``getvalue()`` without a copy, so the
    peak is about the size of the result, not twice that.
    """
    out = OutputBuffer()
    write_parts(out, parts)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# The in-memory output buffer

HUGE_FROM = 1 << 20  # bytes: a larger output moves to memory advised for transparent huge pages
_HUGE_START = 256 << 20  # its first capacity (address space: only the pages written are memory)
_HUGE_ALIGN = 2 << 20  # a huge page
_BYTES_DATA = bytes.__basicsize__ - 1  # offset of a bytes object's first byte (``ob_sval``)


def _huge_api():
    """(new, resize, decref, madvise) from the CPython C API and libc, or None where that is
    not CPython on Linux with transparent huge pages."""
    if sys.implementation.name != "cpython" or not sys.platform.startswith("linux") \
            or not hasattr(mmap, "MADV_HUGEPAGE"):
        return None
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
        api = ctypes.pythonapi
        new, resize, decref = api.PyBytes_FromStringAndSize, api._PyBytes_Resize, api.Py_DecRef
    except (OSError, AttributeError):
        return None
    madvise.argtypes, madvise.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
    new.argtypes, new.restype = [ctypes.c_void_p, ctypes.c_ssize_t], ctypes.c_void_p
    resize.argtypes, resize.restype = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_ssize_t], ctypes.c_int
    decref.argtypes, decref.restype = [ctypes.c_void_p], None
    return new, resize, decref, madvise


_HUGE_API = _huge_api()


class OutputBuffer(io.RawIOBase):
    """An in-memory, seekable binary file like ``io.BytesIO`` (``getvalue()`` hands its bytes
    over without a copy, and closes the buffer), for the large outputs of the text formats.

    Writing tens of megabytes into fresh memory costs more in page faults than in making the
    text: a bytes object of 70 MB is faulted in 4 KiB pages, about 18,000 faults (0.16 s on
    the benchmark machine, as much as building the rows). So once the output passes
    ``HUGE_FROM`` bytes, it moves into a bytes object made for it (``PyBytes_FromStringAndSize``
    with no content, as C extensions build their results) whose memory is advised for
    transparent huge pages (``madvise(MADV_HUGEPAGE)``: 2 MiB pages, 36 faults for 70 MB),
    grown by doubling (into a new object so advised: copying in huge pages costs little) and
    cut to its length when handed over (``_PyBytes_Resize``, a ``realloc`` that shrinks in
    place). The object is reachable only through this
    buffer until then (reference count 1, as resizing requires). Small outputs, and Python
    builds other than CPython on Linux, stay in a ``BytesIO``. The bytes are the same either
    way."""

    def __init__(self):
        super().__init__()
        self._small: io.BytesIO | None = io.BytesIO()
        self._obj = ctypes.c_void_p()  # the bytes object once large (a reference we own)
        self._view: memoryview | None = None  # its content, writable
        self._cap = self._size = self._pos = 0
        self._stay_small = False

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._small.tell() if self._small is not None else self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if self._small is not None:
            return self._small.seek(pos, whence)
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + pos < 0:
            raise ValueError(f"negative seek position {base + pos}")
        self._pos = base + pos
        return self._pos

    def write(self, data) -> int:
        if self._small is not None:
            n = self._small.write(data)
            if _HUGE_API is not None and not self._stay_small and self._small.getbuffer().nbytes > HUGE_FROM:
                self._go_huge()
            return n
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        with memoryview(data) as view:
            view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
            n = view.nbytes
            end = self._pos + n
            if end > self._cap:
                self._reserve(end)
            if self._pos > self._size:  # written past the end: the gap reads as zeros (as BytesIO)
                self._view[self._size:self._pos] = bytes(self._pos - self._size)
            self._view[self._pos:end] = view
        self._pos = end
        self._size = max(self._size, end)
        return n

    def _go_huge(self) -> None:
        small, self._small = self._small, None
        data = small.getbuffer()
        try:
            self._reserve(max(_HUGE_START, 2 * data.nbytes))
            self._view[:data.nbytes] = data
            self._size, self._pos = data.nbytes, small.tell()
        except MemoryError:  # no room for the reservation (strict overcommit): stay a BytesIO
            self._release()
            self._small, self._stay_small = small, True
            return
        except BaseException:
            self._release()
            self._small = small  # stays as it was
            raise
        finally:
            data.release()
        small.close()

    def _reserve(self, need: int) -> None:
        """Room for ``need`` bytes: a new bytes object (twice as large as the last one at
        least), advised for huge pages before the content so far is copied into it (a
        ``realloc`` may copy it into memory not so advised)."""
        new, _, decref, madvise = _HUGE_API
        cap = max(need, 2 * self._cap)
        obj = new(None, cap)
        start = obj + _BYTES_DATA
        first = -(-start // _HUGE_ALIGN) * _HUGE_ALIGN
        last = (start + cap) // _HUGE_ALIGN * _HUGE_ALIGN
        if last > first:
            madvise(first, last - first, mmap.MADV_HUGEPAGE)  # advice only: no huge pages is no error
        view = memoryview((ctypes.c_char * cap).from_address(start)).cast("B")
        if self._obj.value:
            view[:self._size] = self._view[:self._size]
            self._view = None
            decref(self._obj.value)
        self._obj.value, self._view, self._cap = obj, view, cap

    def _release(self) -> None:
        self._view = None
        if self._obj.value:
            _HUGE_API[2](self._obj.value)
            self._obj.value = None
        self._cap = self._size = self._pos = 0

    def getvalue(self) -> bytes:
        """The bytes written; the buffer is closed (its memory is the result)."""
        if self._small is not None:
            value = self._small.getvalue()
        else:
            if self.closed:
                raise ValueError("I/O operation on closed file.")
            _, resize, decref, _ = _HUGE_API
            self._view = None
            if self._size != self._cap and resize(ctypes.byref(self._obj), self._size):  # pragma: no cover
                raise MemoryError
            value = ctypes.cast(self._obj, ctypes.py_object).value  # a reference of its own
            decref(self._obj.value)
            self._obj.value = None
        self.close()
        return value

    def close(self) -> None:
        if self._small is not None:
            self._small.close()
        else:
            self._release()
        super().close()

    def __del__(self):
        self.close()
