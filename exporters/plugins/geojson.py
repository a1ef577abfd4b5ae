"""GeoJSON FeatureCollection in the project's feed format (identifier ``geojson``).

One file, ``speedcams.geojson`` (RFC 7946, UTF-8, one feature per line, compact), in the
layout of docs/feed-geojson.md so it re-imports with ``--format geojson``:

- a camera is a ``Point`` feature, a section or stretch with an end point a ``LineString``
  from start to end; coordinates ``[lon, lat]`` with 6 decimals;
- the feature ``id`` is the camera id (a number; the importer takes it as ``ref``);
- ``properties``: ``name`` (display name, "Speed 50 A7"; ignored by the importer),
  ``kind``, ``type`` (slug), ``speed``/``truck_speed`` (km/h, left out when unknown),
  ``direction`` (all/one/both; a mode without a heading is written as ``all``),
  ``heading`` (degrees, left out when none), ``country``, ``road``, ``description``
  (left out when empty) and ``reports`` (mobile zones, left out when 0).

Features in camera id order; the same input gives the same bytes.
"""

from __future__ import annotations

import json

import numpy as np

from ..base import CameraSet, Exporter, ExportOptions, RenderResult, register
from ..common import poi_names, select
from ..schema import Kind
from ..textrows import factorize, group_codes, json_escape, number_pairs, number_pieces, texts, write_rows
from ._interchange import DIRECTION_WORDS, check_positions, directions, text_file, type_slugs

FILE_NAME = "speedcams.geojson"


@register
class GeoJsonExporter(Exporter):
    identifier = "geojson"
    verbose_name = "GeoJSON (the project's documented feed format)"
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
        slugs = type_slugs()
        lat, lon, heading, end_lat, end_lon = (cams[c] for c in ("lat", "lon", "heading", "end_lat", "end_lon"))
        has_end = ~np.isnan(end_lat) & ~np.isnan(end_lon)
        geometry = np.asarray([',"geometry":{"type":"Point","coordinates":[',
                               ',"geometry":{"type":"LineString","coordinates":[['], dtype=object)
        # ']},"properties":{"name":"..."' per (type, speed, road): the name, and the end of the geometry
        road_codes, _ = factorize(cams["road"])
        name_codes, first = group_codes(cams["type"], cams["speed"], road_codes)
        del road_codes
        names = np.asarray([f']}},"properties":{{"name":"{json_escape(name)}"'
                            for name in poi_names(cams.take(first))], dtype=object)
        # ',"kind":"fixed","type":"speed","speed":50,"direction":"one"' per combination
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
        last = n - 1

        def make(idx):
            rep = reports[idx]
            tail = ["}},\n"] * len(idx)
            if idx[-1] == last:
                tail[-1] = "}}\n"
            return [*number_pieces(ids[idx], prefix='{"type":"Feature","id":'),
                    geometry[has_end[idx].astype(np.int8)].tolist(),
                    *number_pieces(lon[idx], 6, suffix=","), *number_pieces(lat[idx], 6),
                    number_pairs(end_lon[idx], end_lat[idx], 6, prefix="],[", middle=",", suffix="]"),
                    names[name_codes[idx]].tolist(), attrs[attr_codes[idx]].tolist(),
                    *number_pieces(heading[idx], 2, trim=True, prefix=',"heading":'),
                    texts(country[idx], json_escape, ',"country":"', '"'),
                    texts(road[idx], json_escape, ',"road":"', '"'),
                    texts(description[idx], json_escape, ',"description":"', '"'),
                    *number_pieces(rep, when=rep > 0, prefix=',"reports":'), tail]

        file = text_file(FILE_NAME, ['{"type":"FeatureCollection","features":[\n',
                                     lambda out: write_rows(out, np.arange(n), make), "]}\n"], options, "all", n)
        notes = ["GeoJSON: the project's feed format (docs/feed-geojson.md); it re-imports with --format geojson."]
        return RenderResult(files=[file], skipped={}, notes=notes)
