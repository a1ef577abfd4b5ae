"""A picture of a coverage: its countries, the camera density inside and outside it, the
route corridor and home circle, and the numbers (PNG, drawn with Pillow).

Mercator projection over the covered cameras (1st to 99th percentile, so a country's far
overseas cameras do not shrink the mainland to a dot). Countries from the Natural Earth
polygons the camera database uses, simplified for drawing. Density: cameras per cell of
``CELL`` pixels, on a log colour ramp; cameras outside the coverage in grey.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cameras import geo, regions
from cameras.coverage import CameraIndex, Coverage
from cameras.distance import KM_PER_DEG

WIDTH, HEIGHT = 960, 640
PAD, GAP = 12, 16  # the legend's margin, and the space between its text and its key
CELL = 6
SEA, LAND, COVERED, BORDER = (205, 225, 238), (228, 228, 224), (252, 244, 214), (255, 255, 255)
RAMP = ((254, 217, 118), (253, 141, 60), (227, 26, 28), (128, 0, 38))
OUTSIDE = (150, 150, 150)
ROUTE = (33, 102, 172)
TEXT = (40, 40, 40)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def _merc_y(lat):
    lat = np.clip(np.asarray(lat, dtype=np.float64), -85.0, 85.0)
    return np.degrees(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))


@functools.lru_cache(maxsize=1)
def _country_shapes():
    """(iso2, exterior rings as (lon, lat) arrays, area) per polygon, largest first."""
    import shapely

    frame = geo.load_countries()
    out = []
    for iso2, geom in zip(frame["iso2"], frame.geometry):
        geom = shapely.simplify(geom, 0.02, preserve_topology=False)
        for poly in getattr(geom, "geoms", [geom]):
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            out.append((str(iso2), np.asarray(poly.exterior.coords), poly.area))
    out.sort(key=lambda t: -t[2])
    return out


def _extent(index: CameraIndex, mask: np.ndarray, coverage: Coverage):
    lats, lons = [index.lat[mask]], [index.lon[mask]]
    for c in coverage.corridors:
        lats.append(c.route.lat)
        lons.append(c.route.lon)
    for c in coverage.circles:
        d = c.km / KM_PER_DEG
        lats.append(np.array([c.lat - d, c.lat + d]))
        lons.append(np.array([c.lon - d / max(0.1, math.cos(math.radians(c.lat))),
                              c.lon + d / max(0.1, math.cos(math.radians(c.lat)))]))
    lat, lon = np.concatenate(lats), np.concatenate(lons)
    if not len(lat):
        return -170.0, 170.0, -60.0, 75.0
    q = (1, 99) if len(lat) > 200 else (0, 100)
    west, east = np.percentile(lon, q)
    south, north = np.percentile(lat, q)
    span_lon = max(east - west, 0.5)
    span_lat = max(north - south, 0.3)
    return (west - 0.08 * span_lon, east + 0.08 * span_lon, max(-80, south - 0.08 * span_lat),
            min(84, north + 0.08 * span_lat))


def render_map(index: CameraIndex, coverage: Coverage, mask: np.ndarray | None = None, *,
               title: str = "", lines: list[str] = (), width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The PNG bytes of the coverage map."""
    mask = coverage.mask(index) if mask is None else mask
    west, east, south, north = _extent(index, mask, coverage)
    y0, y1 = float(_merc_y(south)), float(_merc_y(north))
    scale = min(width / (east - west), height / (y1 - y0))
    ox = (width - (east - west) * scale) / 2
    oy = (height - (y1 - y0) * scale) / 2

    def project(lon, lat):
        x = ox + (np.asarray(lon, dtype=np.float64) - west) * scale
        y = height - oy - (_merc_y(lat) - y0) * scale
        return x, y

    img = Image.new("RGB", (width, height), SEA)
    draw = ImageDraw.Draw(img, "RGBA")
    for iso2, ring, _ in _country_shapes():
        lon, lat = ring[:, 0], ring[:, 1]
        if lon.max() < west - 1 or lon.min() > east + 1 or lat.max() < south - 1 or lat.min() > north + 1:
            continue
        x, y = project(lon, lat)
        fill = COVERED if iso2 in coverage.countries else LAND
        draw.polygon(list(zip(x.tolist(), y.tolist())), fill=fill, outline=BORDER)

    # density: covered cameras coloured, the others grey
    def cells(sel):
        x, y = project(index.lon[sel], index.lat[sel])
        keep = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        cx, cy = (x[keep] // CELL).astype(np.int64), (y[keep] // CELL).astype(np.int64)
        ncols = width // CELL + 1
        counts = np.bincount(cy * ncols + cx, minlength=ncols * (height // CELL + 1))
        nz = np.flatnonzero(counts)
        return nz % ncols, nz // ncols, counts[nz]

    gx, gy, _ = cells(~mask)
    for x, y in zip(gx.tolist(), gy.tolist()):
        draw.rectangle([x * CELL, y * CELL, x * CELL + CELL - 2, y * CELL + CELL - 2], fill=OUTSIDE + (110,))
    cx, cy, cn = cells(mask)
    top = max(1, int(cn.max())) if len(cn) else 1
    for x, y, n in zip(cx.tolist(), cy.tolist(), cn.tolist()):
        level = math.log1p(n) / math.log1p(top) if top > 1 else 1.0
        colour = RAMP[min(len(RAMP) - 1, int(level * (len(RAMP) - 1) + 0.5))]
        draw.rectangle([x * CELL, y * CELL, x * CELL + CELL - 2, y * CELL + CELL - 2], fill=colour + (230,))

    for c in coverage.corridors:
        x, y = project(c.route.lon, c.route.lat)
        draw.line(list(zip(x.tolist(), y.tolist())), fill=ROUTE + (255,), width=3)
    for c in coverage.circles:
        x, y = project([c.lon], [c.lat])
        r = c.km / KM_PER_DEG / math.cos(math.radians(c.lat)) * scale
        draw.ellipse([x[0] - r, y[0] - r, x[0] + r, y[0] + r], outline=ROUTE + (255,), width=3)

    legend = legend_layout(draw, width, title or f"Coverage: {coverage_names(coverage)}", list(lines)[:3], top)
    # the picture above, the legend below it, as tall as its layout needs
    full = Image.new("RGB", (width, height + legend.height), (255, 255, 255))
    full.paste(img, (0, 0))
    img, draw = full, ImageDraw.Draw(full, "RGBA")
    for text, (x, y), font in legend.texts:
        draw.text((x, height + y), text, fill=TEXT, font=font)
    for (x0, y0, x1, y1), colour in legend.swatches:
        draw.rectangle([x0, height + y0, x1, height + y1], fill=colour)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def coverage_names(coverage: Coverage) -> str:
    """The coverage's regions and countries by name (the picture's default title), with its
    routes and home circles counted."""
    names = regions.country_names()
    parts = [regions.REGIONS[c].name if c in regions.REGIONS else names.get(c, c) for c in coverage.codes]
    parts += ["your route"] * bool(coverage.corridors) + ["around your home"] * bool(coverage.circles)
    return ", ".join(parts) or coverage.describe()


@dataclass
class Legend:
    """Where each piece of the legend goes, in pixels from the legend's top left: the texts
    (text, (x, y), font) and the colour swatches ((x0, y0, x1, y1), colour); ``boxes`` are the
    title, the lines and the key as rectangles (x0, y0, x1, y1), which never intersect."""

    height: int
    texts: list = field(default_factory=list)
    swatches: list = field(default_factory=list)
    boxes: dict = field(default_factory=dict)


def _wrap(draw, text: str, font, width: int) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels (a longer word is cut)."""
    out, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > width:
            out.append(line)
            line = word
        else:
            line = trial
        while draw.textlength(line, font=font) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and draw.textlength(line[:cut], font=font) > width:
                cut -= 1
            out.append(line[:cut])
            line = line[cut:]
    return out + ([line] if line else [])


def legend_layout(draw, width: int, title: str, lines: list[str], top: int) -> Legend:
    """The legend under a map ``width`` pixels wide: the title and the lines on the left, the
    colour key (the density ramp from 1 to ``top`` cameras, and the grey of cameras outside
    the coverage) on the right when both fit side by side, else below the text. Texts are
    wrapped to their column, so nothing overlaps whatever the width and the title."""
    big, small = _font(18), _font(13)
    key_labels = ["cameras per cell", "not in the coverage"]
    key_w = max(4 * 40 - 2, 20 + max(int(draw.textlength(t, font=small)) for t in key_labels))
    key_h = 80
    natural = max([draw.textlength(title, font=big)] + [draw.textlength(t, font=small) for t in lines])
    side_by_side = PAD + natural + GAP + key_w + PAD <= width or width - 2 * PAD - GAP - key_w >= 0.55 * width
    text_w = (width - 2 * PAD - GAP - key_w) if side_by_side else width - 2 * PAD
    legend = Legend(0)
    y = 8
    for row in _wrap(draw, title, big, text_w):
        legend.texts.append((row, (PAD, y), big))
        y += 22
    title_box = (PAD, 8, PAD + text_w, y)
    y += 4
    for line in lines:
        for row in _wrap(draw, line, small, text_w):
            legend.texts.append((row, (PAD, y), small))
            y += 16
    text_bottom = y
    legend.boxes = {"title": title_box}
    if lines:
        legend.boxes["lines"] = (PAD, title_box[3] + 4, PAD + text_w, text_bottom)
    kx, ky = (width - PAD - key_w, 8) if side_by_side else (PAD, text_bottom + GAP // 2)
    legend.texts.append((key_labels[0], (kx, ky), small))
    for i, colour in enumerate(RAMP):
        legend.swatches.append(((kx + i * 40, ky + 20, kx + i * 40 + 38, ky + 34), colour))
    legend.texts.append(("1", (kx, ky + 38), small))
    legend.texts.append((f"{top:,}", (kx + 4 * 40 - 2 - int(draw.textlength(f"{top:,}", font=small)), ky + 38), small))
    legend.swatches.append(((kx, ky + 58, kx + 14, ky + 70), OUTSIDE))
    legend.texts.append((key_labels[1], (kx + 20, ky + 56), small))
    legend.boxes["key"] = (kx, ky, kx + key_w, ky + key_h)
    legend.height = max(text_bottom, ky + key_h) + 8
    return legend
