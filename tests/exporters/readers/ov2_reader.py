"""A strict reader for TomTom OV2 files, for tests.

Written from shared/formats/tomtom-ov2.md, not from the exporter: little-endian records,
type byte first; type 0/100 deleted (skipped by length), type 1 skipper (21 bytes: type,
block length, two corners), type 2 POI (type, total length, x, y, NUL-terminated name),
type 3 extended POI (three NUL-terminated strings). Coordinates are degrees x 100 000.

Besides the POIs it checks the skipper tree: every skipper's block length must end inside
its parent's block (or at the file end for a top-level one), the rectangle must contain
every POI of its block (corners in either order), leaves (skippers with no nested skipper)
hold at most ``max_leaf`` POIs, and the tree covers every POI exactly once. Anything off
raises ``Ov2FormatError`` naming the byte offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

X_LIMIT, Y_LIMIT = 18_000_000, 9_000_000


class Ov2FormatError(AssertionError):
    pass


@dataclass(frozen=True)
class Ov2Poi:
    offset: int
    x: int
    y: int
    name: str
    raw_name: bytes
    length: int                          # the record's length field (bytes)

    @property
    def lon(self) -> float:
        return self.x / 1e5

    @property
    def lat(self) -> float:
        return self.y / 1e5


@dataclass
class Skipper:
    offset: int
    length: int
    west: int
    south: int
    east: int
    north: int
    ne_first: bool                       # corner order as written: NE then SW (GPSBabel) or SW then NE
    depth: int = 0
    pois: list[int] = field(default_factory=list)      # indices of POIs directly in this block
    children: list["Skipper"] = field(default_factory=list)

    def all_pois(self) -> list[int]:
        out = list(self.pois)
        for child in self.children:
            out += child.all_pois()
        return out


@dataclass
class Ov2File:
    pois: list[Ov2Poi]
    skippers: list[Skipper]                  # all, in file order
    roots: list[Skipper]
    loose_pois: list[int]                    # POIs outside every skipper block

    @property
    def leaves(self) -> list[Skipper]:
        return [s for s in self.skippers if not s.children]


def _i32(data: bytes, at: int) -> int:
    return struct.unpack_from("<i", data, at)[0]


def read_ov2(data: bytes, *, encoding: str = "cp1252", max_leaf: int | None = 20,
             require_tree: bool = True) -> Ov2File:
    """Parse and validate ``data``; with ``require_tree`` every POI must sit in a skipper block."""
    pois: list[Ov2Poi] = []
    skippers: list[Skipper] = []
    roots: list[Skipper] = []
    loose: list[int] = []
    stack: list[tuple[Skipper, int]] = []  # open blocks: (skipper, end offset)
    pos = 0
    size = len(data)
    while pos < size:
        while stack and pos >= stack[-1][1]:
            if pos > stack[-1][1]:
                raise Ov2FormatError(f"record at {pos} runs past the end of the skipper block at {stack[-1][0].offset}")
            stack.pop()
        rtype = data[pos]
        if rtype == 1:
            if pos + 21 > size:
                raise Ov2FormatError(f"skipper at {pos} is cut short by the end of the file")
            length = _i32(data, pos + 1)
            a_x, a_y, b_x, b_y = (_i32(data, pos + k) for k in (5, 9, 13, 17))
            if length < 21:
                raise Ov2FormatError(f"skipper at {pos} has block length {length} < 21")
            end = pos + length
            limit = stack[-1][1] if stack else size
            if end > limit:
                raise Ov2FormatError(f"skipper at {pos} claims {length} bytes, past the end of its "
                                     f"{'parent block' if stack else 'file'} ({limit})")
            for v, lim in ((a_x, X_LIMIT), (b_x, X_LIMIT), (a_y, Y_LIMIT), (b_y, Y_LIMIT)):
                if abs(v) > lim:
                    raise Ov2FormatError(f"skipper at {pos} has a corner out of range ({v})")
            sk = Skipper(pos, length, min(a_x, b_x), min(a_y, b_y), max(a_x, b_x), max(a_y, b_y),
                         ne_first=(a_x >= b_x and a_y >= b_y), depth=len(stack))
            if stack:
                stack[-1][0].children.append(sk)
            else:
                roots.append(sk)
            skippers.append(sk)
            stack.append((sk, end))
            pos += 21
        elif rtype in (2, 3):
            if pos + 13 > size:
                raise Ov2FormatError(f"POI at {pos} is cut short by the end of the file")
            length = _i32(data, pos + 1)
            if length < 14 or pos + length > size:
                raise Ov2FormatError(f"POI at {pos} has a bad length {length} (file size {size})")
            x, y = _i32(data, pos + 5), _i32(data, pos + 9)
            if abs(x) > X_LIMIT or abs(y) > Y_LIMIT:
                raise Ov2FormatError(f"POI at {pos} is out of range: x={x}, y={y}")
            text = data[pos + 13:pos + length]
            if not text.endswith(b"\0"):
                raise Ov2FormatError(f"POI at {pos}: the name is not NUL-terminated")
            strings = text[:-1].split(b"\0")
            if rtype == 2 and len(strings) != 1:
                raise Ov2FormatError(f"POI at {pos}: a NUL inside the name")
            if rtype == 3 and len(strings) != 3:
                raise Ov2FormatError(f"extended POI at {pos} needs three strings, has {len(strings)}")
            raw = strings[0]
            pois.append(Ov2Poi(pos, x, y, raw.decode(encoding), raw, length))
            if stack:
                stack[-1][0].pois.append(len(pois) - 1)
            else:
                loose.append(len(pois) - 1)
            pos += length
        elif rtype in (0, 100):
            length = _i32(data, pos + 1)
            if length < 5 or pos + length > size:
                raise Ov2FormatError(f"deleted record at {pos} has a bad length {length}")
            pos += length
        else:
            raise Ov2FormatError(f"unknown record type {rtype} at {pos}")
    for sk, end in stack:
        if end != size:
            raise Ov2FormatError(f"skipper at {sk.offset} ends at {end}, after the file ({size})")
    result = Ov2File(pois, skippers, roots, loose)
    validate_tree(result, max_leaf=max_leaf, require_tree=require_tree)
    return result


def validate_tree(f: Ov2File, *, max_leaf: int | None = 20, require_tree: bool = True) -> None:
    """Every block's rectangle holds its POIs; leaves are small; each POI is covered once."""
    covered: list[int] = []
    for root in f.roots:
        covered += root.all_pois()
    if require_tree and f.loose_pois:
        raise Ov2FormatError(f"{len(f.loose_pois)} POI(s) outside every skipper block, first at "
                             f"{f.pois[f.loose_pois[0]].offset}")
    if sorted(covered + f.loose_pois) != list(range(len(f.pois))) or len(set(covered)) != len(covered):
        raise Ov2FormatError("the skipper tree does not cover every POI exactly once")
    for sk in f.skippers:
        block_pois = sk.all_pois()
        for i in block_pois:
            p = f.pois[i]
            if not (sk.west <= p.x <= sk.east and sk.south <= p.y <= sk.north):
                raise Ov2FormatError(f"POI at {p.offset} ({p.x}, {p.y}) lies outside the rectangle of the skipper "
                                     f"at {sk.offset} ({sk.west}..{sk.east}, {sk.south}..{sk.north})")
        # The block length must be exactly the bytes of the records it holds.
        if sk.children or sk.pois:
            last_end = max([c.offset + c.length for c in sk.children] +
                           [f.pois[i].offset + f.pois[i].length for i in sk.pois])
            if last_end != sk.offset + sk.length:
                raise Ov2FormatError(f"skipper at {sk.offset}: block length {sk.length} but its records end at "
                                     f"{last_end - sk.offset}")
        elif sk.length != 21:
            raise Ov2FormatError(f"empty skipper at {sk.offset} claims {sk.length} bytes")
        if max_leaf is not None and not sk.children and len(sk.pois) > max_leaf:
            raise Ov2FormatError(f"leaf skipper at {sk.offset} holds {len(sk.pois)} POIs (> {max_leaf})")
