"""The project's own feed CSV (identifier ``csv``): one file, ``speedcams.csv``.

The layout is the documented import format (docs/feed-csv.md), so the export re-imports
with ``--format csv`` (or auto-detection) and other tools read it as plain CSV:

- UTF-8 without BOM, ``,`` separator, CRLF line ends (RFC 4180), a header row;
- columns ``ref,kind,type,lat,lon,speed,truck_speed,heading,direction,country,road,
  description,end_lat,end_lon,reports`` (``reported_at`` is for mobile *reports* and is
  never written): ``ref`` is the camera id, ``kind`` fixed/mobile, ``type`` the type slug,
  coordinates with 6 decimals, speeds in km/h (empty = unknown), ``heading`` in degrees
  (up to 2 decimals, empty = none), ``direction`` all/one/both (a mode without a heading
  is written as ``all``, as the import would require), ``end_lat``/``end_lon`` for
  stretches, ``reports`` for mobile zones (empty = 0);
- text fields are quoted (quotes doubled) only when they hold a comma, a quote or a line
  break. Rows in camera id order;
- spreadsheet safety: ``country``, ``road`` and ``description`` come from third-party feeds,
  so a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a CR (a formula for
  Excel or LibreOffice) is written as OWASP advises, with a single quote in front and quoted
  (``"'=HYPERLINK(...)"``: ``textrows.csv_text``). The other columns are numbers, fixed
  words or empty: a negative coordinate such as ``-0.127758`` stays a number. A re-import
  keeps the quote (``'=HYPERLINK(...)``), so such a text never turns back into a formula.
"""

from __future__ import annotations

import numpy as np

from exporters import sizing
from exporters.base import CameraSet, Exporter, ExportOptions, RenderResult, register
from exporters.common import select, select_index
from exporters.schema import Kind
from exporters.textrows import (ChunkTexts, NumberColumn, csv_column, group_codes, number_pairs, row_sizes,
                                write_rows)
from exporters.interchange import (DIRECTION_WORDS, check_positions, directions, encoded_size, grouped_model, position_errors,
                           text_file, type_slugs)
from exporters.i18n import gettext, gettext_noop

FILE_NAME = "speedcams.csv"
COLUMNS = ("ref", "kind", "type", "lat", "lon", "speed", "truck_speed", "heading", "direction", "country", "road",
           "description", "end_lat", "end_lon", "reports")
EOL = "\r\n"


HEADER = ",".join(COLUMNS) + EOL
NOTES = (gettext_noop("CSV: the project's feed format (docs/feed-csv.md); it re-imports with --format csv."),)
CHUNK = 16384


def row_maker(cams: CameraSet):
    """``make(idx)``: the pieces of the lines of rows ``idx`` (``textrows.write_rows``); the
    writer and the size model both build their lines with it."""
    slugs = type_slugs()
    # "fixed,speed," per (kind, type)
    kt_codes, first = group_codes(cams["kind"], cams["type"])
    kind_type = np.asarray([
        f"{'mobile' if k == Kind.MOBILE else 'fixed'},{slugs[t] if 0 <= t < len(slugs) and slugs[t] else t},"
        for k, t in zip(cams["kind"][first].tolist(), cams["type"][first].tolist())], dtype=object)
    # "50,80," per (speed, truck speed)
    sp_codes, first = group_codes(cams["speed"], cams["truck_speed"])
    speeds = np.asarray([f"{s if s > 0 else ''},{t if t > 0 else ''},"
                         for s, t in zip(cams["speed"][first].tolist(), cams["truck_speed"][first].tolist())],
                        dtype=object)
    _, mode = directions(cams)
    directions_text = np.asarray([f",{DIRECTION_WORDS.get(m, 'all')}," for m in range(3)], dtype=object)
    lat, lon, heading, end_lat, end_lon = (cams[c] for c in ("lat", "lon", "heading", "end_lat", "end_lon"))
    ids, reports = cams["id"], cams["reports"]
    country, road, description = cams["country"], cams["road"], cams["description"]
    # each text cell made once per distinct value (``ChunkTexts``; a chunk at a time)
    country_cells, road_cells, description_cells = (
        ChunkTexts((column,), lambda rows, column=column: csv_column(column[rows], after=","))
        for column in (country, road, description))

    # the numbers' digits are worked out once for all rows (``NumberColumn``), picked per chunk
    id_text, lat_text, lon_text = (NumberColumn(ids, suffix=","), NumberColumn(lat, 6, suffix=","),
                                   NumberColumn(lon, 6, suffix=","))
    heading_text = NumberColumn(heading, 2, trim=True)
    reports_text = NumberColumn(reports, when=reports > 0, suffix=EOL, missing=EOL)

    def make(idx):
        return [*id_text(idx), kind_type[kt_codes[idx]].tolist(), *lat_text(idx), *lon_text(idx),
                speeds[sp_codes[idx]].tolist(), *heading_text(idx),
                directions_text[mode[idx]].tolist(), country_cells(idx), road_cells(idx), description_cells(idx),
                number_pairs(end_lat[idx], end_lon[idx], 6, middle=",", suffix=",", missing=",,"),
                *reports_text(idx)]

    return make


@register
class CsvExporter(Exporter):
    identifier = "csv"
    verbose_name = gettext_noop("CSV (the project's documented feed format)")
    file_extension = ".csv"
    encoding = "utf-8"
    max_name_length = None
    direction_aware = True
    speed_carried_as = "field"
    speed_in_names = ""  # no names
    mobile_supported = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = select(cameras, options)
        check_positions(cams, "CSV")
        make = row_maker(cams)
        file = text_file(FILE_NAME, [HEADER, lambda out: write_rows(out, np.arange(len(cams)), make, chunk=CHUNK)],
                         options, "all", len(cams))
        return RenderResult(files=[file], skipped={}, notes=[gettext(note) for note in NOTES])

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        cams, index = select_index(cameras, options)
        record_bytes = row_sizes(np.arange(len(cams)), row_maker(cams), chunk=CHUNK)
        header = encoded_size(HEADER)

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            count = int(tally.counts[0])
            return sizing.SizedExport([sizing.FileSize(FILE_NAME, "all", count, header + int(tally.bytes[0]))],
                                      {}, [gettext(note) for note in NOTES])

        return grouped_model(cameras, cams, index, np.zeros(len(cams), np.int64), record_bytes, 1, layout,
                             check=lambda subset: check_positions(subset, "CSV"), errors=position_errors(cams))
