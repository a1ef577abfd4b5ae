"""Icon sets drawn by the project with Pillow: device icons and Windows BMP encoding.

Every icon is our own pixel drawing, made at the target size without anti-aliasing, from
a fixed 16-colour palette (``PALETTE16``): so a 4-bit BMP (TomTom, 16 colours) loses
nothing, and the same inputs always give the same bytes. Speed numbers use small built-in
bitmap digit fonts (3x5, 4x7 and a bold 6x9, scaled by whole pixels for big icons), not a
system font, so they stay crisp at 22x22 and 24x24 and do not depend on the host.

Icon sets (``ExportOptions.icons``):

- ``"speed"``: a speed-limit sign (white disc, red ring, black number) when the camera
  has a speed, a symbol per kind otherwise: traffic light (red light), "AVG" sign with two
  posts (average-speed section), radar van (mobile), camera in a speed ring (fixed camera,
  speed unknown), red-bordered triangle with "!" (danger zone) or with a camera (other
  enforcement), tunnel sign, level-crossing cross. Red-light and section cameras with a
  speed get the speed sign with a small traffic light or "AVG" under the number. The
  number is in the category's unit (``exporters.units``): a UK 30 mph camera gets a "30"
  sign, as the road sign there reads (mph signs carry no unit either).
- ``"fr-danger"``: the French danger sign (red-bordered triangle with "!") and no number,
  whatever the category, as France requires for camera warnings.

Plain Python + Pillow + numpy; no Django.
"""

from __future__ import annotations

import re
import struct
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from .base import ICON_SETS  # ("speed", "fr-danger"): the values ExportOptions.icons accepts
TRANSPARENT = (255, 0, 255)

# The drawing colours; index 0 is the transparent colour of paletted BMPs.
MAGENTA = (255, 0, 255)
BLACK = (0, 0, 0)
WHITE = (255, 255, 255)
RED = (204, 0, 0)
DARK_RED = (128, 0, 0)
AMBER = (255, 170, 0)
GREEN = (0, 160, 0)
BLUE = (0, 82, 164)
DARK_GREY = (64, 64, 64)
GREY = (128, 128, 128)
LIGHT_GREY = (192, 192, 192)
YELLOW = (255, 214, 0)
LIGHT_BLUE = (150, 190, 235)
DARK_BLUE = (0, 40, 100)
PINK = (255, 150, 150)
DARK_GREEN = (0, 90, 0)
PALETTE16 = (MAGENTA, BLACK, WHITE, RED, DARK_RED, AMBER, GREEN, BLUE,
             DARK_GREY, GREY, LIGHT_GREY, YELLOW, LIGHT_BLUE, DARK_BLUE, PINK, DARK_GREEN)


def _palette256() -> tuple[tuple[int, int, int], ...]:
    """The 16 drawing colours, a 6x6x6 colour cube and 24 greys: a fixed, deterministic palette."""
    levels = (0, 51, 102, 153, 204, 255)
    cube = [(r, g, b) for r in levels for g in levels for b in levels]
    greys = [(v, v, v) for v in range(8, 256, 10)][:24]
    return tuple(PALETTE16) + tuple(cube) + tuple(greys)


PALETTE256 = _palette256()
assert len(PALETTE256) == 256


# ---------------------------------------------------------------------------------------
# Bitmap fonts: every glyph is a list of rows, "#" = ink.


def _font(spec: str) -> dict[str, tuple[str, ...]]:
    """Parse "<char>: row row row ..." lines into glyphs of equal size."""
    glyphs = {}
    for line in spec.strip().splitlines():
        char, rows = line.split(":", 1)
        glyphs[char.strip()] = tuple(rows.split())
    sizes = {(len(g[0]), len(g)) for g in glyphs.values()}
    assert len(sizes) == 1 and all(len(r) == len(g[0]) for g in glyphs.values() for r in g), sizes
    return glyphs


FONT_3X5 = _font("""
0: ### #.# #.# #.# ###
1: .#. ##. .#. .#. ###
2: ### ..# ### #.. ###
3: ### ..# .## ..# ###
4: #.# #.# ### ..# ..#
5: ### #.. ### ..# ###
6: ### #.. ### #.# ###
7: ### ..# ..# .#. .#.
8: ### #.# ### #.# ###
9: ### #.# ### ..# ###
A: .#. #.# ### #.# #.#
V: #.# #.# #.# #.# .#.
G: .## #.. #.# #.# .##
""")

FONT_4X7 = _font("""
0: .##. #..# #..# #..# #..# #..# .##.
1: ..#. .##. ..#. ..#. ..#. ..#. .###
2: .##. #..# ...# ..#. .#.. #... ####
3: .##. #..# ...# ..#. ...# #..# .##.
4: ...# ..## .#.# #..# #### ...# ...#
5: #### #... ###. ...# ...# #..# .##.
6: .##. #... #... ###. #..# #..# .##.
7: #### ...# ..#. ..#. .#.. .#.. .#..
8: .##. #..# #..# .##. #..# #..# .##.
9: .##. #..# #..# .### ...# ...# .##.
""")

FONT_BOLD_6X9 = _font("""
0: .####. ##..## ##..## ##..## ##..## ##..## ##..## ##..## .####.
1: ..##.. .###.. ####.. ..##.. ..##.. ..##.. ..##.. ..##.. ######
2: .####. ##..## ....## ....## ...##. ..##.. .##... ##.... ######
3: .####. ##..## ....## ....## ..###. ....## ....## ##..## .####.
4: ...##. ..###. .####. ##.##. ##.##. ###### ...##. ...##. ...##.
5: ###### ##.... ##.... #####. ....## ....## ....## ##..## .####.
6: .####. ##.... ##.... #####. ##..## ##..## ##..## ##..## .####.
7: ###### ....## ....## ...##. ...##. ..##.. ..##.. ..##.. ..##..
8: .####. ##..## ##..## ##..## .####. ##..## ##..## ##..## .####.
9: .####. ##..## ##..## ##..## .##### ....## ....## ##..## .####.
""")

DIGIT_FONTS = (FONT_BOLD_6X9, FONT_4X7, FONT_3X5)  # preferred first (at equal height)

# Small pictures used as a second line under the speed number, same notation plus colours:
# "#" black, "r" red, "a" amber, "g" green.
BADGE_LIGHTS = ("##########", "#rr#aa#gg#", "#rr#aa#gg#", "##########")
BADGE_COLOURS = {"#": BLACK, "r": RED, "a": AMBER, "g": GREEN}


def _glyph_box(font, text: str, k: int) -> tuple[int, int]:
    g = font[text[0]]
    w, h = len(g[0]), len(g)
    return (len(text) * w + (len(text) - 1)) * k, h * k


def _blit_rows(img: Image.Image, rows, x0: int, y0: int, k: int, colours) -> None:
    px = img.load()
    for j, row in enumerate(rows):
        for i, ch in enumerate(row):
            colour = colours.get(ch)
            if colour is None:
                continue
            for dy in range(k):
                for dx in range(k):
                    px[x0 + i * k + dx, y0 + j * k + dy] = (*colour, 255)


def _blit_text(img: Image.Image, font, text: str, x0: int, y0: int, k: int, colour=BLACK) -> None:
    w = len(font[text[0]][0])
    for n, ch in enumerate(text):
        _blit_rows(img, font[ch], x0 + n * (w + 1) * k, y0, k, {"#": colour})


# ---------------------------------------------------------------------------------------
# Drawing helpers (all at the target size, no anti-aliasing)


def _new(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGBA", (size, size), (*TRANSPARENT, 0))
    return img, ImageDraw.Draw(img)


def _c(colour):
    return (*colour, 255)


def ring_width(size: int) -> int:
    return max(2, round(size * 0.11))


def _speed_disc(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw, float]:
    """White disc with a red ring; returns the image, its draw context and the inner radius."""
    img, d = _new(size)
    ring = ring_width(size)
    d.ellipse([0, 0, size - 1, size - 1], fill=_c(RED))
    d.ellipse([ring, ring, size - 1 - ring, size - 1 - ring], fill=_c(WHITE))
    return img, d, size / 2 - ring


def _fits(lines: list[tuple[int, int]], gap: int, size: int, radius: float) -> tuple[bool, list[tuple[int, int]]]:
    """Stack lines (w, h) centred in the disc; True and their top-left corners if all fit."""
    total_h = sum(h for _, h in lines) + gap * (len(lines) - 1)
    y = (size - total_h) // 2
    c = size / 2
    origins = []
    for w, h in lines:
        x = (size - w) // 2
        for cx in (x, x + w):
            for cy in (y, y + h):
                if (cx - c) ** 2 + (cy - c) ** 2 > radius ** 2 + 1e-9:
                    return False, []
        origins.append((x, y))
        y += h + gap
    return True, origins


def _speed_sign(size: int, speed: int, extra: str = "") -> Image.Image:
    """Speed-limit sign; ``extra`` adds "AVG" (section) or a traffic light (red light) under the number."""
    img, _, radius = _speed_disc(size)
    text = str(int(speed))
    candidates = []
    for order, font in enumerate(DIGIT_FONTS):
        for k in range(1, max(1, size // 5) + 1):
            w, h = _glyph_box(font, text, k)
            # Tallest first; a glyph drawn at its own size beats a scaled-up smaller one
            # unless the scaled one is more than 2 px taller (scaled fonts look blocky).
            candidates.append((-h + (2 if k > 1 else 0), order, k, font, w, h))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    for _, _, k, font, w, h in candidates:
        lines = [(w, h)]
        if extra == "avg":
            lines.append(_glyph_box(FONT_3X5, "AVG", k))
        elif extra == "lights":
            lines.append((len(BADGE_LIGHTS[0]) * k, len(BADGE_LIGHTS) * k))
        ok, origins = _fits(lines, k, size, radius)
        if not ok:
            continue
        _blit_text(img, font, text, *origins[0], k)
        if extra == "avg":
            _blit_text(img, FONT_3X5, "AVG", *origins[1], k)
        elif extra == "lights":
            _blit_rows(img, BADGE_LIGHTS, *origins[1], k, BADGE_COLOURS)
        return img
    if extra:  # too small for two lines: the number alone
        return _speed_sign(size, speed)
    raise ValueError(f"speed {speed} does not fit a {size}x{size} icon")


def _camera(d: ImageDraw.ImageDraw, cx: float, cy: float, w: int, colour=BLACK, lens=WHITE) -> None:
    """A small camera body with a lens, centred at (cx, cy), ``w`` pixels wide."""
    h = max(3, round(w * 0.6))
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    d.rectangle([x0, y0, x0 + w - 1, y0 + h - 1], fill=_c(colour))
    bump = max(1, w // 4)
    d.rectangle([x0 + 1, y0 - max(1, h // 4), x0 + bump, y0 - 1], fill=_c(colour))
    r = max(1, h // 3)
    lx, ly = x0 + w // 2, y0 + h // 2
    d.ellipse([lx - r, ly - r, lx + r, ly + r], fill=_c(lens))


def _fixed_camera(size: int) -> Image.Image:
    img, d, radius = _speed_disc(size)
    _camera(d, size / 2, size / 2 + size * 0.04, max(6, round(radius * 1.2)))
    return img


def _triangle(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw, list[tuple[float, float]]]:
    """Red-bordered white warning triangle; returns the inner triangle's corners."""
    img, d = _new(size)
    top, bottom = 0.5, size - 1.5
    outer = [(size / 2 - 0.5, top), (size - 1.0, bottom), (0.0, bottom)]
    d.polygon(outer, fill=_c(RED))
    # Inner triangle: the outer one shrunk about its incentre so each edge moves in by `border`.
    border = max(2, round(size * 0.12))
    (ax, ay), (bx, by), (cx, cy) = outer
    a = ((bx - cx) ** 2 + (by - cy) ** 2) ** 0.5
    b = ((ax - cx) ** 2 + (ay - cy) ** 2) ** 0.5
    c = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5
    ix, iy = (a * ax + b * bx + c * cx) / (a + b + c), (a * ay + b * by + c * cy) / (a + b + c)
    s = (a + b + c) / 2
    inradius = (s * (s - a) * (s - b) * (s - c)) ** 0.5 / s
    f = (inradius - border) / inradius
    inner = [(ix + (x - ix) * f, iy + (y - iy) * f) for x, y in outer]
    d.polygon(inner, fill=_c(WHITE))
    return img, d, inner


def _danger(size: int) -> Image.Image:
    """The French danger sign: red-bordered triangle with a black "!" and no number."""
    img, d, inner = _triangle(size)
    w = max(2, round(size / 11))
    x0 = round(size / 2 - w / 2)
    top = round(inner[0][1] + (inner[1][1] - inner[0][1]) * 0.30)
    bottom_y = inner[1][1]
    dot = w
    dot_y = round(bottom_y - 1 - dot)
    bar_bottom = dot_y - max(1, round(size / 16)) - 1
    d.rectangle([x0, top, x0 + w - 1, bar_bottom], fill=_c(BLACK))
    d.rectangle([x0, dot_y, x0 + w - 1, dot_y + dot - 1], fill=_c(BLACK))
    return img


def _other(size: int) -> Image.Image:
    img, d, inner = _triangle(size)
    cy = inner[0][1] + (inner[1][1] - inner[0][1]) * 0.68
    _camera(d, size / 2, cy, max(5, round(size * 0.36)))
    return img


def _traffic_light(size: int) -> Image.Image:
    img, d = _new(size)
    bw = max(7, round(size * 0.42)) | 1  # odd width centres the lights
    x0 = (size - bw) // 2
    d.rounded_rectangle([x0, 0, x0 + bw - 1, size - 1], radius=max(1, bw // 4), fill=_c(DARK_GREY),
                        outline=_c(BLACK))
    cell = (size - 2) / 3
    r = max(2, round(min(bw - 3, cell - 1) / 2))
    cx = x0 + bw // 2
    for i, colour in enumerate((RED, AMBER, GREEN)):
        cy = round(1 + cell * (i + 0.5))
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_c(colour))
    return img


def _section(size: int) -> Image.Image:
    """Average-speed section: a white "AVG" board between two camera posts."""
    img, d = _new(size)
    post = max(2, round(size * 0.1))
    for x in (0, size - post):
        d.rectangle([x, round(size * 0.25), x + post - 1, size - 1], fill=_c(DARK_GREY))
        d.rectangle([max(0, x - 1), round(size * 0.08), min(size - 1, x + post), round(size * 0.25)], fill=_c(BLACK))
    k = max(1, (size - 2 * post - 4) // 11)
    w, h = _glyph_box(FONT_3X5, "AVG", k)
    bx0, bx1 = post + 1, size - post - 2
    by0 = round(size * 0.2)
    by1 = by0 + h + 3 * k
    d.rectangle([bx0, by0, bx1, by1], fill=_c(WHITE), outline=_c(BLACK))
    _blit_text(img, FONT_3X5, "AVG", (size - w) // 2, by0 + 2 * k - (k > 1), k)
    # The measured stretch: a red double line between the posts.
    y = min(size - 3, by1 + max(2, round(size * 0.15)))
    d.rectangle([post, y, size - post - 1, y + max(1, size // 16)], fill=_c(RED))
    return img


def _mobile(size: int) -> Image.Image:
    """Radar van: blue van with a camera lens in the side window, black wheels."""
    img, d = _new(size)
    s = size / 22
    body_top, body_bottom = round(6 * s), round(16 * s)
    d.rectangle([round(1 * s), body_top, round(14 * s), body_bottom], fill=_c(BLUE))
    d.polygon([(round(14 * s), body_top), (round(18 * s), body_top), (round(21 * s), round(11 * s)),
               (round(21 * s), body_bottom), (round(14 * s), body_bottom)], fill=_c(BLUE))
    d.polygon([(round(15 * s), round(8 * s)), (round(18 * s), round(8 * s)), (round(20 * s), round(11 * s)),
               (round(15 * s), round(11 * s))], fill=_c(LIGHT_BLUE))
    lens_c = (round(7 * s), round(11 * s))
    r = max(2, round(3 * s))
    d.ellipse([lens_c[0] - r, lens_c[1] - r, lens_c[0] + r, lens_c[1] + r], fill=_c(BLACK))
    r2 = max(1, r // 2)
    d.ellipse([lens_c[0] - r2, lens_c[1] - r2, lens_c[0] + r2, lens_c[1] + r2], fill=_c(WHITE))
    # Radar waves over the roof.
    d.rectangle([round(5 * s), round(3 * s), round(9 * s), round(3 * s) + max(0, round(s) - 1)], fill=_c(RED))
    d.rectangle([round(3 * s), round(1 * s), round(11 * s), round(1 * s) + max(0, round(s) - 1)], fill=_c(RED))
    wr = max(2, round(2.5 * s))
    for wx in (round(5 * s), round(17 * s)):
        wy = body_bottom + 1
        d.ellipse([wx - wr, wy - wr, wx + wr, wy + wr], fill=_c(BLACK))
    return img


def _tunnel(size: int) -> Image.Image:
    """Tunnel sign: blue square, white frame, black portal with a white road."""
    img, d = _new(size)
    d.rectangle([0, 0, size - 1, size - 1], fill=_c(BLUE))
    m = max(2, round(size * 0.12))
    d.rectangle([m, m, size - 1 - m, size - 1 - m], fill=_c(WHITE))
    p = m + max(1, round(size * 0.1))
    bottom = size - 1 - m
    d.pieslice([p, p, size - 1 - p, bottom + (size - 2 * p) // 2], 180, 360, fill=_c(BLACK))
    mid = p + (size - 2 * p) // 2 - 1
    d.rectangle([p, mid, size - 1 - p, bottom], fill=_c(BLACK))
    lane = max(1, size // 16)
    cx = size // 2
    d.rectangle([cx - lane // 2, bottom - round(size * 0.25), cx + lane - 1 - lane // 2, bottom], fill=_c(WHITE))
    return img


def _level_crossing(size: int) -> Image.Image:
    """Level crossing: the St Andrew's cross, red bars edged in white."""
    img, d = _new(size)
    half = max(2, round(size * 0.17))  # half of the bar width across the bar, white edge included
    edge = max(1, round(size * 0.05))
    c = (size - 1) / 2
    L = (size - 1) / 2 - half * 0.5

    def bar(rising: bool, hw: float, colour) -> None:
        o = hw / 2 ** 0.5
        if rising:   # bottom-left to top-right
            pts = [(c - L - o, c + L - o), (c + L - o, c - L - o), (c + L + o, c - L + o), (c - L + o, c + L + o)]
        else:        # top-left to bottom-right
            pts = [(c - L + o, c - L - o), (c + L + o, c + L - o), (c + L - o, c + L + o), (c - L - o, c - L + o)]
        d.polygon([(min(max(x, 0), size - 1), min(max(y, 0), size - 1)) for x, y in pts], fill=_c(colour))

    for rising in (False, True):
        bar(rising, half, WHITE)
    for rising in (False, True):
        bar(rising, half - edge, RED)
    return img


def _route(size: int) -> Image.Image:
    """Route enforcement (a radar car along a route): a blue disc, a white road running into
    the distance and a red car on it."""
    img, d = _new(size)
    s = size / 24

    def r(v):
        return round(v * s)

    d.ellipse([0, 0, size - 1, size - 1], fill=_c(BLUE))
    d.polygon([(r(10), r(3)), (r(14), r(3)), (r(19), r(21)), (r(5), r(21))], fill=_c(WHITE))
    d.rectangle([r(8), r(12), r(16), r(17)], fill=_c(RED))
    d.rectangle([r(9.5), r(9.5), r(14.5), r(12)], fill=_c(RED))
    d.ellipse([r(8), r(16), r(10.5), r(18.5)], fill=_c(BLACK))
    d.ellipse([r(13.5), r(16), r(16), r(18.5)], fill=_c(BLACK))
    return img


# ---------------------------------------------------------------------------------------
# Public API

_SPEED_CATEGORY = re.compile(r"^(.*?)-(\d+|unknown)(mph)?$")  # "fixed-50", "fixed-30mph" (the sign shows 30)
SYMBOLS = {
    "red-light": "red-light", "red-light-speed": "red-light",
    "section": "section", "section-start": "section", "section-end": "section",
    "mobile": "mobile", "mobile-zone": "mobile", "mobile-camera": "mobile", "police-check": "mobile",
    "danger": "danger", "danger-zone": "danger",
    "route": "route", "route-enforcement": "route",
    "other": "other", "bus-lane": "other",
    "tunnel": "tunnel", "level-crossing": "level-crossing",
    "fixed": "fixed", "speed": "fixed", "variable-limit": "fixed", "distance": "fixed",
}


def parse_category(category) -> tuple[str, int]:
    """(symbol, speed) from a category object, (slug, speed) pair or slug such as "fixed-50".

    The speed is the number the sign shows, in the category's unit: "fixed-30mph" (a UK
    30 mph camera) gives a "30" sign, as the road sign reads."""
    speed = 0
    if hasattr(category, "slug"):
        slug, speed = category.slug, int(getattr(category, "speed", 0) or 0)
    elif isinstance(category, tuple):
        slug, speed = category[0], int(category[1] or 0)
    else:
        slug = str(category)
    base = slug
    m = _SPEED_CATEGORY.match(slug)
    if m and m.group(1) in SYMBOLS:
        base = m.group(1)
        if not speed and m.group(2).isdigit():
            speed = int(m.group(2))
    return SYMBOLS.get(base, "other"), speed


@lru_cache(maxsize=512)
def draw_icon(category: str, speed: int, size: int, icon_set: str = "speed") -> Image.Image:
    """An RGBA ``size`` x ``size`` icon (transparent background = magenta, alpha 0).

    ``category`` is a category slug ("fixed", "fixed-50", "red-light", ...) or a camera type
    slug ("tunnel", "level-crossing", ...). Callers must not modify the (cached) image.
    """
    if icon_set not in ICON_SETS:
        raise ValueError(f"unknown icon set {icon_set!r}; valid: {', '.join(ICON_SETS)}")
    if size < 12:
        raise ValueError(f"icons smaller than 12x12 are not supported (asked {size})")
    symbol, slug_speed = parse_category(category)
    speed = int(speed or slug_speed)
    if speed < 0 or speed > 999:
        raise ValueError(f"speed {speed} is outside 0-999")
    if icon_set == "fr-danger":
        return _danger(size)
    if symbol in ("fixed",):
        return _speed_sign(size, speed) if speed else _fixed_camera(size)
    if symbol == "red-light":
        return _speed_sign(size, speed, "lights") if speed else _traffic_light(size)
    if symbol == "section":
        return _speed_sign(size, speed, "avg") if speed else _section(size)
    return {"mobile": _mobile, "danger": _danger, "other": _other, "tunnel": _tunnel, "route": _route,
            "level-crossing": _level_crossing}[symbol](size)


def _palette_for(bits: int, transparent) -> np.ndarray:
    base = PALETTE16 if bits == 4 else PALETTE256
    colours = [tuple(transparent)] + [c for c in base if c != tuple(transparent)]
    colours = colours[: 1 << bits]
    colours += [(0, 0, 0)] * ((1 << bits) - len(colours))
    return np.array(colours, dtype=np.int32)


def to_bmp(image: Image.Image, bits: int = 24, transparent=TRANSPARENT) -> bytes:
    """A Windows BMP (BITMAPINFOHEADER, uncompressed, bottom-up rows padded to 4 bytes).

    Pixels with alpha < 128 become ``transparent`` (magenta by default: the colour POI
    Loader, GPSBabel and TomTom treat as see-through). 8- and 4-bit images use a fixed
    palette whose index 0 is the transparent colour; other pixels take the nearest other
    palette colour (the icons are drawn in palette colours, so nothing is lost). The
    output depends only on the pixels: same image, same bytes.
    """
    if bits not in (24, 8, 4):
        raise ValueError(f"BMP depth {bits} is not supported; valid: 24, 8, 4")
    rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
    height, width = rgba.shape[:2]
    rgb = rgba[..., :3].astype(np.int32)
    clear = rgba[..., 3] < 128
    if bits == 24:
        rgb[clear] = transparent
        pixels = rgb[..., ::-1].astype(np.uint8)  # BGR
        row = pixels.reshape(height, width * 3)
        palette = b""
        colours_used = 0
    else:
        pal = _palette_for(bits, transparent)
        # the nearest palette colour of each distinct colour (an icon has a few), then per pixel
        packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        distinct, inverse = np.unique(packed, return_inverse=True)
        colours = np.stack([distinct >> 16, (distinct >> 8) & 255, distinct & 255], axis=-1)
        dist = ((colours[:, None, :] - pal[None, :, :]) ** 2).sum(axis=-1)
        dist[:, 0] = np.iinfo(np.int32).max  # only see-through pixels take the transparent colour
        index = dist.argmin(axis=-1).astype(np.uint8)[inverse.reshape(height, width)]
        index[clear] = 0
        if bits == 4:
            if width % 2:
                index = np.concatenate([index, np.zeros((height, 1), np.uint8)], axis=1)
            row = (index[:, 0::2] << 4) | index[:, 1::2]
        else:
            row = index
        quads = np.zeros((len(pal), 4), dtype=np.uint8)
        quads[:, :3] = pal[:, ::-1]
        palette = quads.tobytes()
        colours_used = len(pal)
    row_bytes = row.shape[1]
    stride = (row_bytes + 3) & ~3
    data = np.zeros((height, stride), dtype=np.uint8)
    data[:, :row_bytes] = row
    pixel_data = data[::-1].tobytes()  # bottom-up
    offset = 14 + 40 + len(palette)
    file_header = struct.pack("<2sIHHI", b"BM", offset + len(pixel_data), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bits, 0, len(pixel_data), 2835, 2835, colours_used, 0)
    return file_header + info + palette + pixel_data


@lru_cache(maxsize=1024)
def _icon_bmp(symbol_slug: str, speed: int, size: int, bits: int, icon_set: str) -> bytes:
    return to_bmp(draw_icon(symbol_slug, speed, size, icon_set), bits)


def icon_files(categories, size: int, bits: int, icon_set: str = "speed") -> dict[str, bytes]:
    """BMP bytes per category slug, in the given order.

    ``categories`` holds ``common.Category`` objects, (slug, speed) pairs or slugs.
    """
    out = {}
    for cat in categories:
        slug = cat.slug if hasattr(cat, "slug") else (cat[0] if isinstance(cat, tuple) else str(cat))
        _, speed = parse_category(cat)
        out[slug] = _icon_bmp(slug, speed, size, bits, icon_set)
    return out
