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

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cameras import geo
from cameras.coverage import CameraIndex, Coverage
from cameras.distance import KM_PER_DEG

WIDTH, HEIGHT, LEGEND = 960, 640, 86
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

    img = Image.new("RGB", (width, height + LEGEND), SEA)
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

    # legend
    draw.rectangle([0, height, width, height + LEGEND], fill=(255, 255, 255))
    big, small = _font(18), _font(13)
    draw.text((12, height + 8), title or f"Coverage: {coverage.describe()}", fill=TEXT, font=big)
    for i, line in enumerate(list(lines)[:3]):
        draw.text((12, height + 34 + 16 * i), line, fill=TEXT, font=small)
    lx = width - 260
    draw.text((lx, height + 8), "cameras per cell", fill=TEXT, font=small)
    for i, colour in enumerate(RAMP):
        draw.rectangle([lx + i * 40, height + 28, lx + i * 40 + 38, height + 42], fill=colour)
    draw.text((lx, height + 46), "1", fill=TEXT, font=small)
    draw.text((lx + 4 * 40 - 30, height + 46), f"{top:,}", fill=TEXT, font=small)
    draw.rectangle([lx, height + 66, lx + 14, height + 78], fill=OUTSIDE)
    draw.text((lx + 20, height + 64), "not in the coverage", fill=TEXT, font=small)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
