"""OpenStreetMap speed-camera feed CSV (reader ``osm-feed-csv``).

The merged feed published by the GitHub project ``stevoamigo2-cmd/osm-cameras-feed``:
``osm_node_id,lat,lon,feed_type,feed_bboxes,feed_snapshot_dates``. Only id and position
survive the feed, so every record is a fixed speed camera (``fixed_camera``, from
``highway=speed_camera``) or a single mobile camera (``mobile_possible_camera``, from the
``camera:type=mobile`` / ``radar=yes`` tags). ``feed_bboxes`` lists coarse, overlapping
country rectangles, not countries, so no country hint is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from exporters.schema import CameraType, Kind

from .base import (
    FormatError,
    Reader,
    Record,
    Rejection,
    csv_rows,
    first_line,
    header_fields,
    position,
    read_text,
    register,
)

FEED_TYPES = {
    "fixed_camera": (CameraType.SPEED, Kind.FIXED),
    "mobile_possible_camera": (CameraType.MOBILE_CAMERA, Kind.MOBILE),
}
REQUIRED = ("osm_node_id", "lat", "lon", "feed_type")


@register
class OsmFeedCsvReader(Reader):
    name = "osm-feed-csv"
    label = "OpenStreetMap speed-camera feed CSV (osm_node_id,lat,lon,feed_type,...)"
    extensions = (".csv",)

    def sniff(self, head: bytes, path: Path) -> int:
        cols = header_fields(first_line(head))
        if not cols or cols[0] != "osm_node_id":
            return 0
        return 95 if {"lat", "lon", "feed_type"} <= set(cols) else 60

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        text, _ = read_text(path)
        rows = csv_rows(text)  # one row per line: a stray quote costs one row
        names = None
        for line_no, header, problem in rows:
            if problem:
                raise FormatError(f"{path}:{line_no}: the header row cannot be read: {problem}")
            if any(cell.strip() for cell in header):
                names = [cell.strip().lower() for cell in header]
                break
        missing = [c for c in REQUIRED if c not in (names or ())]
        if missing:
            raise FormatError(f"{path}: not an OSM camera feed CSV: header lacks {', '.join(missing)}")
        i_id, i_lat, i_lon, i_type = (names.index(c) for c in REQUIRED)
        ncols = len(names)
        feed_types = FEED_TYPES
        for line_no, fields, problem in rows:
            if problem:
                yield Rejection(fname, line_no, problem)
                continue
            if len(fields) != ncols:
                if not any(f.strip() for f in fields):
                    continue
                yield Rejection(fname, line_no, f"expected {ncols} fields as in the header, got {len(fields)}")
                continue
            node = fields[i_id].strip()
            if not node.isdigit():
                yield Rejection(fname, line_no, f"osm_node_id {node!r} is not a positive whole number")
                continue
            feed_type = fields[i_type].strip()
            try:
                type_, kind = feed_types[feed_type]
            except KeyError:
                yield Rejection(fname, line_no, f"feed_type {feed_type!r} is unknown; "
                                                f"expected {' or '.join(feed_types)}")
                continue
            try:
                lat, lon = position(fields[i_lat], fields[i_lon])
            except ValueError as err:
                yield Rejection(fname, line_no, str(err))
                continue
            yield Record(line_no, lat, lon, type_, kind, f"node/{node}")
