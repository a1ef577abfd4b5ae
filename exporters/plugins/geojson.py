"""GeoJSON FeatureCollection in the project's feed format (identifier ``geojson``).

One file, ``speedcams.geojson`` (RFC 7946, UTF-8, one feature per line, compact), in the
layout of docs/feed-geojson.md so it re-imports with ``--format geojson``:

- a camera is a ``Point`` feature, a section or stretch with an end point a ``LineString``
  from start to end; coordinates ``[lon, lat]`` with 6 decimals;
- the feature ``id`` is the camera id (a number; the importer takes it as ``ref``);
- ``properties``: ``name`` (display name, "Speed 50 A7", in mph "Speed 30 mph A40" as
  ``ExportOptions.speed_unit`` says; ignored by the importer), ``kind``, ``type`` (slug),
  ``speed``/``truck_speed`` (always km/h, the feed's unit; left out when unknown),
  ``direction`` (all/one/both; a mode without a heading is written as ``all``),
  ``heading`` (degrees, left out when none), ``country``, ``road``, ``description``
  (left out when empty) and ``reports`` (mobile zones, left out when 0).

Features in camera id order; the same input gives the same bytes.
"""

from __future__ import annotations

import json

import numpy as np

from exporters import sizing
from exporters.base import CameraSet, Exporter, ExportOptions, RenderResult, register
from exporters.common import poi_names, select, select_index
from exporters.schema import Kind
from exporters.textrows import ChunkTexts, group_codes, json_escape, number_pairs, number_pieces, row_sizes, texts, write_rows
from exporters.bulk import rows_of
from exporters.units import unit_columns
from exporters.interchange import (DIRECTION_WORDS, check_positions, directions, encoded_size, grouped_model, position_errors,
                           text_file, type_slugs)
from exporters.i18n import gettext, gettext_noop

FILE_NAME = "speedcams.geojson"


HEAD = '{"type":"FeatureCollection","features":[\n'
FOOT = "]}\n"
NOTES = (gettext_noop("GeoJSON: the project's feed format (docs/feed-geojson.md); it re-imports with --format geojson."),)


def row_maker(cams: CameraSet):
    """``make(idx)``: the pieces of the features of rows ``idx`` (``textrows.write_rows``),
    each ending in "}},\\n" except the last row of ``cams`` ("}}\\n"). The writer and the
    size model both build their features with it."""
    n = len(cams)
    slugs = type_slugs()
    lat, lon, heading, end_lat, end_lon = (cams[c] for c in ("lat", "lon", "heading", "end_lat", "end_lon"))
    has_end = ~np.isnan(end_lat) & ~np.isnan(end_lon)
    geometry = np.asarray([',"geometry":{"type":"Point","coordinates":[',
                           ',"geometry":{"type":"LineString","coordinates":[['], dtype=object)
    # ',"kind":"fixed","type":"speed","speed":50,"direction":"one"' per combination
    # ']},"properties":{"name":"..."' per (type, speed, road): the name, and the end of the
    # geometry; made for the rows of each chunk (``ChunkTexts``), no table of every name
    names = ChunkTexts((cams["type"], cams["speed"], *unit_columns(cams), cams["road"]),
                       lambda rows: texts(poi_names(rows_of(cams, rows)), json_escape, ']},"properties":{"name":"',
                                          '"', always=True))
    _, mode = directions(cams)
    attr_codes, first = group_codes(cams["kind"], cams["type"], cams["speed"], cams["truck_speed"], mode)
    attrs = []
    for i in first.tolist():
        t, sp, ts = int(cams["type"][i]), int(cams["speed"][i]), int(cams["truck_speed"][i])
        slug = slugs[t] if 0 <= t < len(slugs) and slugs[t] else str(t)
        text = f',"kind":"{"mobile" if cams["kind"][i] == Kind.MOBILE else "fixed"}","type":{json.dumps(slug)}'
        if sp > 0:
            text += f',"speed":{sp}'
        if ts > 0:
            text += f',"truck_speed":{ts}'
        text += f',"direction":"{DIRECTION_WORDS.get(int(mode[i]), "all")}"'
        attrs.append(text)
    attrs = np.asarray(attrs, dtype=object)
    ids, reports = cams["id"], cams["reports"]
    country, road, description = cams["country"], cams["road"], cams["description"]
    # each text member made once per distinct value (``ChunkTexts``; a chunk at a time)
    country_texts, road_texts, description_texts = (
        ChunkTexts((column,), lambda rows, column=column, before=before: texts(column[rows], json_escape, before, '"'))
        for column, before in ((country, ',"country":"'), (road, ',"road":"'), (description, ',"description":"')))
    last = n - 1

    def make(idx):
        rep = reports[idx]
        tail = ["}},\n"] * len(idx)
        if len(idx) and idx[-1] == last:
            tail[-1] = "}}\n"
        return [*number_pieces(ids[idx], prefix='{"type":"Feature","id":'),
                geometry[has_end[idx].astype(np.int8)].tolist(),
                *number_pieces(lon[idx], 6, suffix=","), *number_pieces(lat[idx], 6),
                number_pairs(end_lon[idx], end_lat[idx], 6, prefix="],[", middle=",", suffix="]"),
                names(idx),
                attrs[attr_codes[idx]].tolist(),
                *number_pieces(heading[idx], 2, trim=True, prefix=',"heading":'),
                country_texts(idx), road_texts(idx), description_texts(idx),
                *number_pieces(rep, when=rep > 0, prefix=',"reports":'), tail]

    return make


@register
class GeoJsonExporter(Exporter):
    identifier = "geojson"
    verbose_name = gettext_noop("GeoJSON (the project's documented feed format)")
    file_extension = ".geojson"
    encoding = "utf-8"
    max_name_length = None
    direction_aware = True
    speed_carried_as = "field"
    mobile_supported = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = select(cameras, options)
        check_positions(cams, "GeoJSON")
        n = len(cams)
        make = row_maker(cams)
        file = text_file(FILE_NAME, [HEAD, lambda out: write_rows(out, np.arange(n), make), FOOT], options, "all", n)
        return RenderResult(files=[file], skipped={}, notes=[gettext(note) for note in NOTES])

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        cams, index = select_index(cameras, options)
        record_bytes = row_sizes(np.arange(len(cams)), row_maker(cams))
        if len(cams):  # every feature as one followed by another: "}},\n" (the last one is a byte shorter)
            record_bytes[-1] += 1
        frame = encoded_size(HEAD) + encoded_size(FOOT)

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            count = int(tally.counts[0])
            size = frame + int(tally.bytes[0]) - (1 if count else 0)
            return sizing.SizedExport([sizing.FileSize(FILE_NAME, "all", count, size)], {}, [gettext(note) for note in NOTES])

        return grouped_model(cameras, cams, index, np.zeros(len(cams), np.int64), record_bytes, 1, layout,
                             check=lambda subset: check_positions(subset, "GeoJSON"), errors=position_errors(cams))
