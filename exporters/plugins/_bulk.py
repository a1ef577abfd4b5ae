"""Vectorised helpers for the byte-level writers (OV2, POI Loader CSV): no plugin here.

- ``factorize``: per-row codes for repeated values (names depend on a few columns only, so
  they are built once per distinct value instead of once per camera);
- ``pack_blob``: many byte strings as one buffer with their offsets and lengths;
- ``to_cp1252``: text to Windows-1252 bytes, transliterating what the code page lacks;
- ``fixed_decimals``: coordinates to ASCII decimal text in bulk (table look-ups);
- ``check_coordinates``: refuse what a format cannot hold, naming the cameras.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from ..base import ExportError


def factorize_objects(values) -> np.ndarray:
    """Codes 0..k-1 for the values of an object column, numbered by first appearance."""
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    table = {v: i for i, v in enumerate(dict.fromkeys(items))}
    return np.fromiter(map(table.__getitem__, items), dtype=np.int64, count=len(items))


def factorize_ints(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, first_index) for non-negative integer keys; codes follow the key order."""
    key = np.asarray(key, dtype=np.int64)
    n = len(key)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    top = int(key.max()) + 1
    if top <= 8 * n + 4096:  # dense table: no sort needed
        first = np.full(top, n, dtype=np.int64)
        first[key[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)  # the last write is the first row
        present = first < n
        code_of = np.cumsum(present, dtype=np.int64) - 1
        return code_of[key], first[present]
    uniq, first, codes = np.unique(key, return_index=True, return_inverse=True)
    return codes.reshape(-1), first


def factorize(*columns) -> tuple[np.ndarray, np.ndarray]:
    """(codes, first_index): rows with equal values in all ``columns`` share a code.

    Integer columns are used as they are, object (text) columns through a hash table;
    the result is deterministic for the same input.
    """
    key = None
    for col in columns:
        col = np.asarray(col)
        if col.dtype == object:
            part = factorize_objects(col)
        else:
            part, _ = factorize_ints(col.astype(np.int64) - (int(col.min()) if len(col) else 0))
        if key is None:
            key = part
            continue
        key, _ = factorize_ints(key)
        key = key * (int(part.max()) + 1 if len(part) else 1) + part
    return factorize_ints(key)


def pack_blob(pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(blob, starts, lengths) for a list of byte strings."""
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    starts = np.cumsum(lengths) - lengths
    blob = np.frombuffer(b"".join(pieces), dtype=np.uint8)
    return blob, starts, lengths


# ---------------------------------------------------------------------------------------
# Text

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


def clean_text(text: str) -> str:
    """One line of printable text: control characters (and NUL) become spaces, runs collapse."""
    if text.isprintable():
        return text
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def transliterate(text: str, codec: str = "cp1252") -> tuple[str, bool]:
    """(text with only characters ``codec`` has, whether anything was replaced)."""
    try:
        text.encode(codec)
        return text, False
    except UnicodeEncodeError:
        return "".join(_translit_char(c, codec) for c in text), True


# ---------------------------------------------------------------------------------------
# Numbers and coordinates


def round_half_away(values: np.ndarray, scale: float) -> np.ndarray:
    """round(values * scale) to int64, halves away from zero (not GPSBabel's +0.5 truncation)."""
    scaled = np.asarray(values, dtype=np.float64) * scale
    return (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int64)


def check_coordinates(ids: np.ndarray, lat: np.ndarray, lon: np.ndarray, fmt: str) -> None:
    """ExportError naming the cameras whose position is missing or outside WGS84 ranges."""
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0))
    if bad.any():
        idx = np.nonzero(bad)[0]
        shown = ", ".join(f"id {int(ids[i])} ({float(lat[i])}, {float(lon[i])})" for i in idx[:5])
        more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
        raise ExportError(f"{fmt} cannot store {len(idx)} camera(s) without a valid WGS84 position "
                          f"(latitude -90..90, longitude -180..180): {shown}{more}; fix or deactivate them")


def _u32(rows) -> np.ndarray:
    """Rows of 4 bytes as one little-endian uint32 each (so a row is copied in one step)."""
    return np.ascontiguousarray(np.array(rows, dtype=np.uint8)).view("<u4").ravel()


def _tz3(k: int) -> int:
    return 3 if k == 0 else 0 if k % 10 else 1 if k % 100 else 2


# 4-byte pieces of "-ddd" "." "ddd" "ddd_" (text) and which bytes are used (mask), by table.
_INT_TEXT = _u32([[45, 48 + k // 100, 48 + k // 10 % 10, 48 + k % 10] for neg in (0, 1) for k in range(1000)])
_INT_MASK = _u32([[neg, k >= 100, k >= 10, 1] for neg in (0, 1) for k in range(1000)])
_HI_TEXT = _u32([[46, 48 + k // 100, 48 + k // 10 % 10, 48 + k % 10] for k in range(1000)])
# hi digits: all shown when the low half is not zero, else down to the last non-zero (one at least)
_HI_MASK = _u32([[1] + [i < (3 if lo_nonzero else max(1, 3 - _tz3(k))) for i in range(3)]
                 for lo_nonzero in (0, 1) for k in range(1000)])
_LO_TEXT = _u32([[48 + k // 100, 48 + k // 10 % 10, 48 + k % 10, 0] for k in range(1000)])
_LO_MASK = _u32([[i < 3 - _tz3(k) for i in range(3)] + [0] for k in range(1000)])


def fixed_decimals(values_scaled: np.ndarray, decimals: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """ASCII text of integers ``values_scaled`` / 10**6, trailing zeros dropped (one kept).

    For |value| < 1000 (coordinates). Returns (chars, mask): an (n, 12) uint8 matrix
    ("-ddd.dddddd" and a spare byte) and which of its cells are used, so ``chars[mask]`` is
    the text and ``mask.sum(1)`` the length of each number. Table look-ups of 4-byte
    pieces, no per-value Python.
    """
    if decimals != 6:
        raise ValueError("fixed_decimals writes 6 decimals")
    v = np.asarray(values_scaled, dtype=np.int64)
    a = np.abs(v)
    if len(a) and int(a.max()) >= 1000 * 10**6:
        raise ValueError("fixed_decimals handles |value| < 1000")
    a = a.astype(np.int32)
    ip, fp = a // 1_000_000, a % 1_000_000
    hi, lo = fp // 1000, fp % 1000
    n = len(v)
    int_key = ip + 1000 * (v < 0)
    hi_key = hi + 1000 * (lo != 0)
    text = np.empty((n, 3), dtype="<u4")
    mask = np.empty((n, 3), dtype="<u4")
    text[:, 0], mask[:, 0] = _INT_TEXT[int_key], _INT_MASK[int_key]
    text[:, 1], mask[:, 1] = _HI_TEXT[hi], _HI_MASK[hi_key]
    text[:, 2], mask[:, 2] = _LO_TEXT[lo], _LO_MASK[lo]
    return text.view(np.uint8).reshape(n, 12), mask.view(np.uint8).reshape(n, 12).view(bool)
