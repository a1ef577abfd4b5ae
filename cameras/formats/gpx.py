"""GPX waypoints as cameras (reader name ``gpx``).

Each top-level ``<wpt>`` is one camera; track and route points are not cameras and are
ignored (a GPX without any waypoint is refused). ``Record.line`` is the waypoint's 1-based
index. What a waypoint says, strongest first:

- the project's own extension ``sc:camera`` (namespace ``urn:speedcam-portal:camera:1``,
  written by our GPX export) with the feed CSV's names and values: ref, type, kind, speed
  (km/h), truck_speed, direction, heading, end_lat/end_lon;
- OSM tags as ``key=value`` lines in ``<desc>`` or ``<cmt>`` (Overpass and JOSM exports:
  ``highway=speed_camera``, ``maxspeed``, ``enforcement``, ``direction``, ``camera:type``,
  ``@id``), read with the ``osm`` reader's rules (``osm_tags.point_tags``); the OSM id
  (``node/123``, also when it is the waypoint's name) becomes the ref;
- the ``<name>``: Garmin POI Loader style (``max@130``, ``Redlight@60``, ``Mobile``) or
  words in several languages (``text_helpers.classify``); speeds as ``@50``, ``50 km/h``,
  ``25 MPH``, else from the description. Numbers without a unit follow ``--speed-unit``
  (``auto``: mph when most waypoints lie in mph countries; our own exports are km/h).
  Waypoints whose texts say no type (no type or speed word, no speed, no tags) take the
  file's type (``text_helpers.settle_types``: the mapping's ``[defaults] type``, else the
  file name's words, else OTHER, with a note).

Names are kept: a street segment ("Main St from 1st Ave to Tunnel Ave") is the ``road``,
another name that says more than a type and a speed goes before the description; ``<desc>``
and ``<cmt>`` (when they are not tags) are the description. ``<time>`` on a mobile waypoint
is the report time. Garmin extensions (``gpxx:Proximity``...) are ignored.

Parsing is safe: the bytes are parsed with defusedxml (entity declarations, external
references and a DOCTYPE naming an external DTD are refused: ``xml_helpers.parse_xml``),
and gpxpy then reads each waypoint element of that tree, so one bad waypoint is one
rejection instead of a failed file.
"""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path
from typing import Iterator

from gpxpy.gpx import GPXException, GPXWaypoint
from gpxpy.gpxfield import gpx_fields_from_xml

from exporters.schema import Kind

from .base import (
    FormatError,
    Reader,
    Record,
    Rejection,
    checked_point,
    register,
)
from .osm_tags import tag_lines
from .text_helpers import (
    TextSpeed,
    apply_properties,
    export_name,
    named_point,
    settle_speeds,
    settle_types,
)
from .xml_helpers import local, parse_xml, xml_root_name

# --------------------------------------------------------------------------- the reader

_GPX_NS = re.compile(r"^\{http://www\.topografix\.com/GPX/1/[01]\}")
CAMERA_TAG = "{urn:speedcam-portal:camera:1}camera"


def _clean(text) -> str:
    return " ".join((text or "").split())


@register
class GpxReader(Reader):
    name = "gpx"
    label = "GPX waypoints (Garmin POI Loader style names such as max@130, OSM tags in <desc>)"
    extensions = (".gpx",)

    def sniff(self, head: bytes, path: Path) -> int:
        return 95 if xml_root_name(head) == "gpx" else 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        root = parse_xml(path)
        if local(root.tag) != "gpx":
            raise FormatError(f"{path}: not a GPX file (the root element is <{local(root.tag)}>, expected <gpx>)")
        # gpxpy expects element names without the GPX namespace (its parser strips it too)
        for el in root.iter():
            if isinstance(el.tag, str):
                el.tag = _GPX_NS.sub("", el.tag)
        version = root.get("version") if root.get("version") in ("1.0", "1.1") else "1.1"
        waypoints = [el for el in root if el.tag == "wpt"]
        if not waypoints:
            tracks = sum(1 for _ in root.iter("trkpt"))
            routes = sum(1 for _ in root.iter("rtept"))
            raise FormatError(
                f"{path}: the GPX has no waypoints (<wpt>) to import as cameras; it has {tracks} track "
                f"point(s) and {routes} route point(s), which are not cameras")
        items: list[Record | Rejection] = []
        records: list[Record] = []
        speeds: list[TextSpeed | None] = []
        untyped: list[Record] = []
        own = True
        for line, el in enumerate(waypoints, 1):
            try:
                rec, speed, ours, typed = self._record(line, el, version)
            except ValueError as err:
                items.append(Rejection(fname, line, str(err)))
                continue
            own = own and ours
            items.append(rec)
            records.append(rec)
            speeds.append(speed)
            if not typed:
                untyped.append(rec)
        settle_types(untyped, path)
        for i, reason in settle_speeds(records, speeds, own=own and bool(records)):
            records[i].notes.append(f"{reason}; speed left empty")
        yield from items

    @staticmethod
    def _record(line: int, el, version: str) -> tuple[Record, TextSpeed | None, bool, bool]:
        """The waypoint's record, the speed its texts state (set once the file's unit is
        known), whether it carries our own export's extension and whether it says its type."""
        lat, lon = checked_point(el.get("lat"), el.get("lon"))
        try:
            wpt = gpx_fields_from_xml(GPXWaypoint, el, version)
        except (GPXException, ValueError, TypeError) as err:
            raise ValueError(f"waypoint could not be read: {err}") from None
        name = _clean(wpt.name)
        tags: dict = {}
        texts = []
        for raw in (wpt.description, wpt.comment):
            found = tag_lines(raw or "")
            if found is not None:
                tags.update(found)
                continue
            text = _clean(raw)
            if text and text != name and text not in texts:
                texts.append(text)
        description = "; ".join(texts)
        ours = el.find(f"extensions/{CAMERA_TAG}")
        exported = export_name(name, "@") if ours is not None else None
        rec, speed, point, info = named_point(line, lat, lon, name, description, tags, exported)
        if ours is not None:
            attrs = {k: v for k, v in ours.attrib.items() if k in ("ref", "type", "kind", "speed", "truck_speed",
                                                                   "direction", "heading")}
            apply_properties(rec, attrs)
            if attrs.get("speed"):
                speed = None
            if ours.get("end_lat") is not None or ours.get("end_lon") is not None:
                rec.end_lat, rec.end_lon = checked_point(ours.get("end_lat"), ours.get("end_lon"), "end")
        if rec.kind == Kind.MOBILE and wpt.time is not None:
            when = wpt.time
            rec.reported_at = (when.replace(tzinfo=timezone.utc) if when.tzinfo is None
                               else when.astimezone(timezone.utc))
        return rec, speed, ours is not None, info.typed or point is not None or ours is not None
