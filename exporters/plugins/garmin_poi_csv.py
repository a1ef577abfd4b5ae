"""Garmin POI Loader CSV: one file per category, each with a same-name 24x24 8-bit icon.

Layout (``/work/shared/formats/garmin-poiloader-csv.md``): no header, one POI per line,
``lon,lat,"name","comment"``, CRLF line ends (POI Loader is a Windows-born tool; GPSBabel
reads both). Coordinates have at most 6 decimals (trailing zeros dropped, about 0.1 m).
Text fields are always quoted, with quotes doubled, so commas and quotes inside are safe;
line breaks and control characters become spaces.

- Name: ``common.poi_names(..., speed_marker="@")``, e.g. "Speed Rue de Rivoli@50", cut to
  ``MAX_NAME`` (44) characters *before* the "@50" so the alert speed always survives
  (GPSBabel's own writer cuts names at 24 and loses it). An "@" elsewhere in a road name
  would be taken for a speed marker (GPSBabel issue 49), so it becomes a space. 44 is our
  limit, not a documented device one: it keeps names readable on nuvi-class screens.
- Speed: km/h, as the "@" suffix (the customer chooses km/h in POI Loader); no suffix when
  the speed is unknown. Categories are not split per speed: one category per kind.
- Comment: description and road ("Paris centre, Rue de Rivoli").
- Encoding: UTF-8 without BOM. Camera names are multilingual (German, Polish, Czech,
  Greek...); Windows-1252 would lose many of them, UTF-8 is what GPX (POI Loader's other
  input) uses, and it is what GPSBabel writes and reads for this format. A BOM is left out
  because it would stick to the first longitude for readers that do not expect one.
- Direction: not carried (the format has no field); alerts are proximity/speed only.

Built in bulk with numpy: the text of each distinct (name, comment) is made once, numbers
are formatted as whole columns, and the lines are rows of one byte matrix cut to length.
"""

from __future__ import annotations

import numpy as np

from .. import common, icons
from ..base import CameraSet, Exporter, ExportOptions, OutputFile, RenderResult, register
from ._bulk import check_coordinates, clean_text, factorize, fixed_decimals, pack_blob, round_half_away

MAX_NAME = 44
ICON_SIZE = 24
ICON_BITS = 8
DECIMALS = 6


def csv_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _clean_road(road: str) -> str:
    return " ".join(clean_text(road).replace("@", " ").split())


def poi_texts(cams: CameraSet) -> tuple[np.ndarray, list[bytes]]:
    """(code per camera, UTF-8 bytes of ',"name","comment"\\r\\n' per code)."""
    codes, first = factorize(cams["type"], cams["speed"], cams["road"], cams["description"])
    uniq = cams.take(first)
    columns = dict(uniq.columns)
    columns["road"] = np.array([_clean_road(r) for r in uniq["road"].tolist()], dtype=object)
    names = common.poi_names(CameraSet(columns), max_len=MAX_NAME, speed_marker="@")
    tails = []
    for name, desc, road in zip(names, uniq["description"].tolist(), columns["road"].tolist()):
        desc = " ".join(clean_text(desc).split())
        comment = ", ".join(part for part in (desc, road) if part)
        tails.append(f",{csv_quote(name)},{csv_quote(comment)}\r\n".encode("utf-8"))
    return codes, tails


def write_lines(lon: np.ndarray, lat: np.ndarray, codes: np.ndarray, tails: list[bytes]) -> tuple[bytes, np.ndarray]:
    """All lines, and the byte offset where each line starts (plus the total at the end).

    Each line is a row of a byte matrix (longitude, comma, latitude, then the text of its
    name and comment, padded); the text is the matrix with the unused cells dropped.
    """
    n = len(lon)
    lon_c, lon_m = fixed_decimals(round_half_away(lon, 10 ** DECIMALS), DECIMALS)
    lat_c, lat_m = fixed_decimals(round_half_away(lat, 10 ** DECIMALS), DECIMALS)
    tail_blob, tail_start, tail_len = pack_blob(tails)
    wn = lon_c.shape[1]
    wt = int(tail_len.max())
    tail_mask = np.arange(wt) < tail_len[:, None]
    tail_mat = np.zeros((len(tails), wt), dtype=np.uint8)
    tail_mat[tail_mask] = tail_blob
    chars = np.empty((n, 2 * wn + 1 + wt), dtype=np.uint8)
    mask = np.empty(chars.shape, dtype=bool)
    chars[:, :wn], mask[:, :wn] = lon_c, lon_m
    chars[:, wn], mask[:, wn] = ord(","), True
    chars[:, wn + 1:2 * wn + 1], mask[:, wn + 1:2 * wn + 1] = lat_c, lat_m
    chars[:, 2 * wn + 1:] = tail_mat[codes]
    mask[:, 2 * wn + 1:] = tail_mask[codes]
    line_len = mask.sum(axis=1, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(line_len, out=offsets[1:])
    return chars[mask].tobytes(), offsets


@register
class GarminPoiCsv(Exporter):
    identifier = "garmin-poi-csv"
    verbose_name = "Garmin POI Loader CSV"
    file_extension = ".csv"
    encoding = "utf-8"
    max_name_length = MAX_NAME
    direction_aware = False
    speed_carried_as = "name"
    mobile_supported = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = common.select(cameras, options)
        lat, lon = cams["lat"].astype(np.float64), cams["lon"].astype(np.float64)
        check_coordinates(cams["id"], lat, lon, "Garmin POI Loader CSV")
        if not len(cams):
            return RenderResult(files=[], skipped={}, notes=["No cameras in this selection: nothing to export."])
        cats = common.categories(cams, by_speed=False)
        index = np.concatenate([cat.index for cat in cats])
        codes, tails = poi_texts(cams)
        text, offsets = write_lines(lon[index], lat[index], codes[index], tails)
        bmps = icons.icon_files(cats, ICON_SIZE, ICON_BITS, options.icons)
        files = []
        done = 0
        for cat in cats:
            k = len(cat.index)
            data = text[int(offsets[done]):int(offsets[done + k])]
            done += k
            files.append(OutputFile(f"{cat.title}.csv", data, cat.slug, k))
            files.append(OutputFile(f"{cat.title}.bmp", bmps[cat.slug], cat.slug, 0))
        notes = [
            "POI Loader CSV has no heading field: alerts are not direction-aware, the device warns near a camera "
            "whatever your direction of travel.",
            "The speed limit is the '@' suffix of each name in km/h (for example 'Speed A7@70'): choose km/h in "
            "POI Loader. Cameras without a known limit have no suffix and give proximity alerts only.",
            f"Each .csv file is one POI category with the .bmp icon of the same name ({options.icons} icon set); "
            "the files are UTF-8.",
        ]
        return RenderResult(files=files, skipped={}, notes=notes)
