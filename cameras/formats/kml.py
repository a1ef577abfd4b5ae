"""KML placemarks as cameras (reader name ``kml``).

- ``<Placemark>`` with a ``<Point>`` -> one camera at ``coordinates`` (``lon,lat[,alt]``).
- ``<Placemark>`` with a ``<LineString>`` -> a section: first position = start, last = end
  (type SECTION; MOBILE_ZONE when the name says mobile).
- The type, kind and speed come from the placemark name as for GPX (``text_helpers.classify``:
  ``max@50``, ``Redlight@60``, ``Mobile``...), else from the description.
- ``<ExtendedData>`` (``<Data name=".."><value>`` or ``<SchemaData><SimpleData name="..">``)
  with the project's CSV property names (``ref type kind speed truck_speed heading direction
  country road description reported_at reports``) overrides what the name says; our own
  KML export writes them.
- Folders, styles and other geometry are ignored; a placemark without a Point or LineString
  is a rejection. ``Record.line`` is the placemark's 1-based index in the file.

Parsed with defusedxml (entity declarations and external references are refused) as a
stream, one placemark at a time.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Iterator

import defusedxml.ElementTree as SafeET

from exporters.schema import CameraType, Kind

from .base import FormatError, Reader, Record, Rejection, checked_point, named_record, register
from .text_helpers import apply_properties, classify
from .xml_helpers import SafeXMLParser, check_depth, local, xml_bytes, xml_guard, xml_root_name

_TAGS = re.compile(r"<[^<>]*>")


def _plain(text: str | None) -> str:
    """Description text without HTML markup and with collapsed whitespace."""
    text = text or ""
    if "<" in text:
        text = _TAGS.sub(" ", re.sub(r"(?i)<br\s*/?>", "\n", text))
    return " ".join(html.unescape(text).split())


def _child(el, name):
    for child in el:
        if local(child.tag) == name:
            return child
    return None


def _positions(text: str | None, what: str) -> list[tuple[float, float]]:
    """``lon,lat[,alt]`` tuples separated by white space -> validated (lat, lon) list."""
    text = ",".join(part.strip() for part in (text or "").split(","))  # tolerate "lon, lat"
    points = []
    for n, item in enumerate(text.split(), 1):
        parts = item.split(",")
        if len(parts) < 2:
            raise ValueError(f"{what} coordinates {item!r} are not 'longitude,latitude[,altitude]'")
        points.append(checked_point(parts[1], parts[0], what if n == 1 else f"point {n}"))
    return points


def _extended_data(placemark) -> dict[str, str]:
    data = {}
    ext = _child(placemark, "ExtendedData")
    if ext is None:
        return data
    for el in ext.iter():
        tag = local(el.tag)
        if tag == "Data" and el.get("name"):
            value = _child(el, "value")
            data[el.get("name").strip().lower()] = (value.text if value is not None else "") or ""
        elif tag == "SimpleData" and el.get("name"):
            data[el.get("name").strip().lower()] = el.text or ""
    return data


@register
class KmlReader(Reader):
    name = "kml"
    label = "KML placemarks (points = cameras, lines = sections)"
    extensions = (".kml",)

    def sniff(self, head: bytes, path: Path) -> int:
        return 95 if xml_root_name(head) == "kml" else 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        line = 0
        root_seen = False
        data = xml_bytes(path)
        check_depth(data, path)
        with xml_guard(path):
            for event, el in SafeET.iterparse(io.BytesIO(data), events=("start", "end"),
                                             parser=SafeXMLParser()):
                if event == "start":
                    if not root_seen:
                        root_seen = True
                        if local(el.tag) != "kml":
                            raise FormatError(f"{path}: not a KML file (the root element is "
                                              f"<{local(el.tag)}>, expected <kml>)")
                    continue
                if local(el.tag) != "Placemark":
                    continue
                line += 1
                try:
                    yield self._record(line, el)
                except ValueError as err:
                    yield Rejection(fname, line, str(err))
                el.clear()
        if line == 0:
            raise FormatError(f"{path}: the KML has no placemarks; nothing to import")

    @staticmethod
    def _record(line: int, placemark) -> Record:
        point = line_string = None
        for el in placemark.iter():
            tag = local(el.tag)
            if tag == "Point" and point is None and line_string is None:
                point = el
            elif tag == "LineString" and point is None and line_string is None:
                line_string = el
        if point is None and line_string is None:
            kinds = sorted({local(e.tag) for e in placemark.iter()} &
                           {"Polygon", "MultiGeometry", "Track", "Model", "LinearRing"})
            found = f" (found {', '.join(kinds)})" if kinds else ""
            raise ValueError(f"placemark has no Point or LineString geometry{found}")
        geometry = point if point is not None else line_string
        coords = _child(geometry, "coordinates")
        text = coords.text if coords is not None else ""
        positions = _positions(text, "position" if point is not None else "start")
        if not positions:
            raise ValueError("placemark has empty coordinates")
        name_el = _child(placemark, "name")
        name = " ".join((name_el.text or "").split()) if name_el is not None else ""
        desc_el = _child(placemark, "description")
        description = _plain(desc_el.text if desc_el is not None else "")
        info = classify(name, description)
        lat, lon = positions[0]
        rec = named_record(line, lat, lon, name, description, info)
        if line_string is not None:
            if len(positions) < 2:
                raise ValueError(f"a LineString section needs at least 2 positions, got {len(positions)}")
            rec.end_lat, rec.end_lon = positions[-1]
            if info.kind == Kind.MOBILE:
                rec.type = CameraType.MOBILE_ZONE
            else:
                rec.type = CameraType.SECTION
        apply_properties(rec, _extended_data(placemark))
        return rec
