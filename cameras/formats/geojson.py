"""The project's own GeoJSON feed (reader name ``geojson``); documented in docs/feed-geojson.md.

A ``FeatureCollection`` of ``Point`` features (one camera each) and ``LineString`` features
(a section or zone: first position = start, last position = end). The properties use the
same names and rules as the project CSV (``ref kind type speed truck_speed heading direction
country road description reported_at reports``); the feature ``id`` is the ref when
``properties.ref`` is absent (the property rules are ``text_helpers.apply_properties``,
shared with the KML reader's ExtendedData). ``Record.line`` is the feature's 1-based index.
GeoJSON whose properties use other names (``cameraType``, ``nroSerie``...: see
``text_helpers.foreign_properties``) is left to the ``table`` reader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from exporters.schema import CameraType

from .base import FormatError, Reader, Record, Rejection, checked_point, json_head_kind, load_json, register
from .text_helpers import apply_properties, clean_text, foreign_properties, is_blank

# --------------------------------------------------------------------------- the reader

_FEATURE_COLLECTION = re.compile(r'"type"\s*:\s*"FeatureCollection"')
_FEATURE = re.compile(r'"type"\s*:\s*"Feature"')


def _position(coords, what: str) -> tuple[float, float]:
    """A GeoJSON position ``[lon, lat(, alt)]`` as validated (lat, lon)."""
    if not isinstance(coords, (list, tuple)) or len(coords) < 2:
        raise ValueError(f"{what} {coords!r} is not a [longitude, latitude] position")
    return checked_point(coords[1], coords[0], what)


@register
class GeoJsonReader(Reader):
    name = "geojson"
    label = "GeoJSON FeatureCollection (this project's format)"
    extensions = (".geojson", ".json")

    def sniff(self, head: bytes, path: Path) -> int:
        first, text = json_head_kind(head)
        if first != "{":
            return 0
        if _FEATURE_COLLECTION.search(text):
            return 20 if foreign_properties(text) else 90
        if _FEATURE.search(text) and '"geometry"' in text:
            return 60
        return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        data = load_json(path)
        if not isinstance(data, dict):
            raise FormatError(f"{path}: not a GeoJSON FeatureCollection (the top level is a JSON "
                              f"{type(data).__name__}, not an object)")
        kind = data.get("type")
        if kind == "Feature":
            features = [data]
        elif kind == "FeatureCollection":
            features = data.get("features")
            if not isinstance(features, list):
                raise FormatError(f"{path}: the FeatureCollection has no \"features\" list")
        else:
            raise FormatError(f"{path}: not a GeoJSON FeatureCollection (top-level \"type\" is {kind!r})")
        if not features:
            raise FormatError(f"{path}: the FeatureCollection has no features; nothing to import")
        for line, feature in enumerate(features, 1):
            try:
                yield self._record(line, feature)
            except ValueError as err:
                yield Rejection(fname, line, str(err))

    @staticmethod
    def _record(line: int, feature) -> Record:
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            got = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
            raise ValueError(f"item is not a GeoJSON Feature (type {got!r})")
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict):
            raise ValueError("feature has no geometry")
        gtype, coords = geometry.get("type"), geometry.get("coordinates")
        end = None
        if gtype == "Point":
            lat, lon = _position(coords, "position")
        elif gtype == "LineString":
            if not isinstance(coords, list) or len(coords) < 2:
                count = len(coords) if isinstance(coords, list) else 0
                raise ValueError(f"a LineString section needs at least 2 positions, got {count}")
            lat, lon = _position(coords[0], "start")
            end = _position(coords[-1], "end")
        else:
            raise ValueError(f"geometry type {gtype!r} is not supported (use Point, or LineString for a section)")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise ValueError(f"properties must be an object, got {type(props).__name__}")
        rec = Record(line=line, lat=lat, lon=lon)
        if end is not None:
            rec.type = CameraType.SECTION
            rec.end_lat, rec.end_lon = end
        fid = feature.get("id")
        if not is_blank(fid):
            rec.ref = clean_text(fid)
        apply_properties(rec, props)
        return rec
