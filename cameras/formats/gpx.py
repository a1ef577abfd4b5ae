"""GPX waypoints as cameras (reader name ``gpx``).

Each top-level ``<wpt>`` is one camera; track and route points are not cameras and are
ignored (a GPX without any waypoint is refused). The waypoint ``<name>`` carries the type
and speed in the Garmin POI Loader style (``max@130``, ``Redlight@60``, ``Mobile``) and is
read by ``text_helpers.classify``; ``<desc>`` / ``<cmt>`` become the description; ``<time>`` on a mobile
waypoint is the report time. Garmin extensions (``gpxx:Proximity``...) are ignored.
``Record.line`` is the waypoint's 1-based index. GPX has no ids, so ``ref`` stays empty.

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

from .base import FormatError, Reader, Record, Rejection, checked_point, named_record, register
from .text_helpers import classify
from .xml_helpers import local, parse_xml, xml_root_name

# --------------------------------------------------------------------------- the reader

_GPX_NS = re.compile(r"^\{http://www\.topografix\.com/GPX/1/[01]\}")


def _clean(text) -> str:
    return " ".join((text or "").split())


@register
class GpxReader(Reader):
    name = "gpx"
    label = "GPX waypoints (Garmin POI Loader style names such as max@130)"
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
        for line, el in enumerate(waypoints, 1):
            try:
                yield self._record(line, el, version)
            except ValueError as err:
                yield Rejection(fname, line, str(err))

    @staticmethod
    def _record(line: int, el, version: str) -> Record:
        lat, lon = checked_point(el.get("lat"), el.get("lon"))
        try:
            wpt = gpx_fields_from_xml(GPXWaypoint, el, version)
        except (GPXException, ValueError, TypeError) as err:
            raise ValueError(f"waypoint could not be read: {err}") from None
        name = _clean(wpt.name)
        texts = []
        for text in (_clean(wpt.description), _clean(wpt.comment)):
            if text and text != name and text not in texts:
                texts.append(text)
        description = "; ".join(texts)
        info = classify(name, description)
        rec = named_record(line, lat, lon, name, description, info)
        if info.kind == Kind.MOBILE and wpt.time is not None:
            when = wpt.time
            rec.reported_at = (when.replace(tzinfo=timezone.utc) if when.tzinfo is None
                               else when.astimezone(timezone.utc))
        return rec
