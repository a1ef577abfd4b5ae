"""Garmin POI Loader CSV: one file per category, each with a same-name 24x24 8-bit icon.

Layout (docs/formats/garmin-poi-loader-csv.md): no header, one POI per line,
``lon,lat,"name","comment"``, CRLF line ends (POI Loader is a Windows-born tool; GPSBabel
reads both). Coordinates have at most 6 decimals (trailing zeros dropped, about 0.1 m).
Text fields are always quoted, with quotes doubled, so commas and quotes inside are safe;
line breaks and control characters become spaces. A text field that starts with ``=``,
``+``, ``-``, ``@``, a tab or a CR (a spreadsheet formula) gets a single quote in front
(``textrows.csv_text``, the OWASP rule): the comment comes from third-party feeds, and POI
files are often opened in a spreadsheet. Coordinates are numbers and are never touched.

- Name: ``common.poi_names(..., speed_marker="@")``, e.g. "Speed Rue de Rivoli@50", cut to
  ``MAX_NAME`` (44) characters *before* the "@50" so the alert speed always survives
  (GPSBabel's own writer cuts names at 24 and loses it). An "@" elsewhere in a road name
  would be taken for a speed marker by POI Loader and GPSBabel, so it becomes a space. 44 is our
  limit, not a documented device one: it keeps names readable on nuvi-class screens.
- Speed: the "@" suffix, a bare number in one unit for the whole package
  (``units.file_unit``: the option's unit, or with "auto" the unit of most cameras; the
  notes and INSTALL say which units to choose in POI Loader, which reads the number in the
  units chosen there); no suffix when the speed is unknown. Categories are not split per
  speed: one category per kind.
- Comment: description and road ("Paris centre, Rue de Rivoli").
- Encoding: UTF-8 without BOM. Camera names are multilingual (German, Polish, Czech,
  Greek...); Windows-1252 would lose many of them, UTF-8 is what GPX (POI Loader's other
  input) uses, and it is what GPSBabel writes and reads for this format. A BOM is left out
  because it would stick to the first longitude for readers that do not expect one.
- Direction: not carried (the format has no field); alerts are proximity/speed only.
- Alert distance: not carried (the format has no field; POI Loader takes one distance for
  the files in its manual mode). The notes say which distance to enter (``manual_proximity_m``:
  the options' distance, or 500 m, the distance of a camera without a known limit in the
  GPI and GPX files), and the device's install steps say where: without it the cameras with
  no "@" suffix would give no alert.

Built in bulk: the text of each distinct (name, comment) is made once, numbers are table
look-ups over whole columns, and the lines are joined a chunk at a time
(``exporters.textrows``), so memory stays small whatever the number of cameras.
"""

from __future__ import annotations

import numpy as np

from exporters import common, icons, sizing, units
from exporters.base import CameraSet, ExportOptions, OutputFile, RenderResult, output_file, register
from exporters.i18n import gettext, gettext_noop, number
from exporters.textrows import ChunkTexts, csv_text, number_pieces, row_sizes, write_rows
from exporters.bulk import (PoiExporter, PoiSizeParts, category_groups, invalid_coordinates, poi_texts, round_half_away,
                    rows_of)

MAX_NAME = 44
ICON_SIZE = 24
ICON_BITS = 8
DECIMALS = 6


def line_tails(cams: CameraSet) -> list[str]:
    """',"name","comment"\r\n' per camera of ``cams`` (the rows of a chunk): made once per
    distinct (type, speed, road, description) of the chunk."""
    codes, _, names, comments = poi_texts(cams, max_len=MAX_NAME, speed_marker="@")
    tails = np.array([f",{csv_text(name, quote=True)},{csv_text(comment, quote=True)}\r\n"
                      for name, comment in zip(names, comments)],
                     dtype=object)
    return tails[codes].tolist()


def line_maker(lon: np.ndarray, lat: np.ndarray, cams: CameraSet):
    """``make(i)``: the pieces of the lines of rows ``i`` (``textrows.write_rows``):
    longitude and latitude with at most 6 decimals (rounded half away from zero, trailing
    zeros dropped, one kept), then the line's tail (``line_tails``, made per chunk of rows
    by ``textrows.ChunkTexts``, so no table of all tails exists and any chunking gives the
    same bytes). The writer and
    the size model both build their lines with it."""
    x, y = round_half_away(lon, 10 ** DECIMALS), round_half_away(lat, 10 ** DECIMALS)
    fields = ("type", "speed", "road", "description")
    tails = ChunkTexts([cams[f] for f in fields], lambda rows: line_tails(rows_of(cams, rows, fields)))

    def make(i):
        return [*number_pieces(x[i], DECIMALS, scaled=True, trim=True, keep=1, suffix=","),
                *number_pieces(y[i], DECIMALS, scaled=True, trim=True, keep=1), tails(i)]

    return make


def manual_proximity_m(options: ExportOptions) -> int:
    """The distance to enter in POI Loader's manual mode: the one the options give, else the
    distance of a camera whose limit is unknown (``base.PROXIMITY_UNKNOWN``), as the GPI and
    GPX files give it: POI Loader's distance is for the cameras without an '@' suffix."""
    return int(options.proximity_for(np.zeros(1, dtype=np.int64))[0])


def notes_for(options: ExportOptions, unit: str = "kmh", other: int = 0) -> list[str]:
    return [
        gettext("POI Loader CSV has no heading field: alerts are not direction-aware, the device warns near a camera "
                "whatever your direction of travel."),
        units.at_speed_note("POI Loader CSV", unit, other),
        gettext("POI Loader makes the '@' number a speed alert (Garmin units are reported to sound a speed alert only "
                "when you approach faster than the limit), so a camera with a known limit stays silent while you "
                "keep to it: a POI has one alert, and one with a speed is a speed alert. Models that read .gpi files "
                "(nüvi, DriveSmart, zūmo) can take the GPI package instead, where every camera warns at any speed."),
        gettext("The CSV format has no alert distance: in POI Loader choose 'Manual' mode and set proximity alerts "
                "to %(distance)s m, or the cameras without a known limit (no '@' suffix) stay silent.")
        % {"distance": number(manual_proximity_m(options))},
        gettext("Each .csv file is one POI category with the .bmp icon of the same name (%(icons)s icon set); "
                "the files are UTF-8.") % {"icons": options.icons},
    ] + ([
        gettext("France danger zones are 300 m to 4 km long and POI Loader's manual distance is one for all POIs: "
                "to be warned before every French zone, set %(distance)s m (cameras elsewhere then warn that early "
                "too), or take the GPX or GPI package, which carry each zone's own distance.")
        % {"distance": number(4000)}] if options.fr_danger_zones else [])


@register
class GarminPoiCsv(PoiExporter):
    identifier = "garmin-poi-csv"
    verbose_name = label = gettext_noop("Garmin POI Loader CSV")
    file_extension = ".csv"
    encoding = "utf-8"
    max_name_length = MAX_NAME
    speed_carried_as = "name"
    speed_in_names = "file"  # the "@" number, one unit per export

    def render_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> RenderResult:
        cams, unit, other = units.file_unit_cameras(cams, options)
        cats = common.categories(cams, by_speed=False)
        make = line_maker(lon, lat, cams)
        bmps = icons.icon_files(cats, ICON_SIZE, ICON_BITS, options.icons)
        files = []
        for cat in cats:
            files.append(output_file(f"{cat.title}.csv", lambda out, i=cat.index: write_rows(out, i, make),
                                     options, cat.slug, len(cat.index)))
            files.append(OutputFile(f"{cat.title}.bmp", bmps[cat.slug], cat.slug, 0))
        return RenderResult(files=files, skipped={}, notes=notes_for(options, unit, int(other.sum())))

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        model = super().size_model(cameras, options)
        if options.speed_unit != "auto":
            return model
        unit = units.file_unit(common.select(cameras, options), "auto")
        return units.FileUnitSizes(model, cameras, options, unit,
                                   lambda mask: sizing.rendered_sizes(self, cameras, options, mask))

    def size_pois(self, cams: CameraSet, lat: np.ndarray, lon: np.ndarray, options: ExportOptions) -> PoiSizeParts:
        cams, unit, other = units.file_unit_cameras(cams, options)
        bad = invalid_coordinates(lat, lon)  # a subset with these is refused (``PoiSizes``): sized as 0, 0 here
        record_bytes = row_sizes(np.arange(len(cams)), line_maker(np.where(bad, 0.0, lon), np.where(bad, 0.0, lat),
                                                                  cams))
        cats, group = category_groups(cams, by_speed=False)
        bmps = icons.icon_files(cats, ICON_SIZE, ICON_BITS, options.icons)
        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            notes = notes_for(options, unit, tally.flags["other_unit"])
            files = []
            for k, cat in enumerate(cats):
                if tally.counts[k]:
                    files.append(sizing.FileSize(f"{cat.title}.csv", cat.slug, int(tally.counts[k]),
                                                 int(tally.bytes[k])))
                    files.append(sizing.FileSize(f"{cat.title}.bmp", cat.slug, 0, len(bmps[cat.slug])))
            return sizing.SizedExport(files, {}, list(notes))

        return PoiSizeParts(group, record_bytes, len(cats), layout, {"other_unit": other})
