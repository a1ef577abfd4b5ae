"""KML placemarks as cameras (reader name ``kml``).

- ``<Placemark>`` with a ``<Point>`` -> one camera at ``coordinates`` (``lon,lat[,alt]``).
- ``<Placemark>`` with a ``<LineString>`` -> a section: first position = start, last = end
  (type SECTION; MOBILE_ZONE when the name says mobile).
- The type, kind and speed come from the placemark name as for GPX (``text_helpers.classify``:
  ``max@50``, ``Redlight@60``, ``Mobile``, words in several languages), else from the
  description; speeds as ``@50``, ``50 km/h``, ``25 MPH``. Numbers without a unit follow
  ``--speed-unit`` (``auto``: mph when most placemarks lie in mph countries).
- OSM tags, as ``key=value`` lines in ``<description>`` or as ``<ExtendedData>`` fields
  (Overpass and JOSM exports: ``highway``, ``maxspeed``, ``enforcement``, ``direction``,
  ``camera:type``, ``@id``), are read with the ``osm`` reader's rules
  (``osm_tags.point_tags``); the OSM id becomes the ref.
- Other ``<ExtendedData>`` (``<Data name=".."><value>`` or ``<SchemaData><SimpleData
  name="..">``) with the project's CSV property names (``ref type kind speed truck_speed
  heading direction country road description reported_at reports``) overrides what the name
  says; our own KML export writes them (and names "Speed 50 A7": the road is kept).
- Point placemarks whose texts say no type (no type or speed word, no speed, no tags or
  type data) take the file's type (``text_helpers.settle_types``: the mapping's
  ``[defaults] type``, else the file name's words, else OTHER, with a note).
- Names are kept: a street segment ("Main St from 1st Ave to Tunnel Ave") is the ``road``
  (and is no tunnel camera), another name that says more than a type and a speed goes before
  the description.
- Folders, styles and other geometry are ignored; a placemark without a Point or LineString
  is a rejection. ``Record.line`` is the placemark's 1-based index in the file.

Parsed with defusedxml (entity declarations and external references are refused) as a
stream, one placemark at a time.
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from pathlib import Path
from typing import Iterator

import defusedxml.ElementTree as SafeET

from exporters.schema import CameraType, Kind

from .base import (
    FormatError,
    Reader,
    Record,
    Rejection,
    checked_point,
    file_note,
    register,
)
from .osm_tags import tag_lines
from .text_helpers import (
    PROPERTY_NAMES,
    TextSpeed,
    apply_properties,
    export_name,
    named_point,
    settle_speeds,
    settle_types,
)
from .xml_helpers import SafeXMLParser, check_depth, local, xml_bytes, xml_guard, xml_root_name

_TAGS = re.compile(r"<[^<>]*>")


_BREAKS = frozenset({"br", "p", "div", "tr", "li"})


def _element_text(el) -> str:
    """The text of a description, with unescaped HTML elements (``<br/>`` written without
    CDATA is an XML child) as line breaks."""
    parts = [el.text or ""]
    for child in el:
        parts.append("\n" if local(child.tag).lower() in _BREAKS else "")
        parts.append(_element_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _lines(text: str | None) -> str:
    """Description text without HTML markup, one line per line or ``<br>``."""
    text = text or ""
    if "<" in text:
        text = _TAGS.sub(" ", re.sub(r"(?i)<br\s*/?>|</(?:p|div|tr|li)>", "\n", text))
    return html.unescape(text)


def _plain(text: str | None) -> str:
    """Description text without HTML markup and with collapsed whitespace."""
    return " ".join(_lines(text).split())


# ExtendedData names that only OSM exports use (the project's CSV names are PROPERTY_NAMES)
_OSM_DATA = frozenset({"highway", "enforcement", "maxspeed", "camera:type", "@id", "id", "maxspeed:hgv"})


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
        items: list[Record | Rejection] = []
        records: list[Record] = []
        speeds: list[TextSpeed | None] = []
        untyped: list[Record] = []
        own = True
        unknown: Counter = Counter()
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
                    rec, speed, ours, odd, typed = self._record(line, el)
                    unknown.update(odd)
                except ValueError as err:
                    items.append(Rejection(fname, line, str(err)))
                else:
                    own = own and ours
                    items.append(rec)
                    records.append(rec)
                    speeds.append(speed)
                    if not typed:
                        untyped.append(rec)
                el.clear()
        if line == 0:
            raise FormatError(f"{path}: the KML has no placemarks; nothing to import")
        if unknown:
            listed = ", ".join(f"{name!r} ({count})" for name, count in unknown.most_common(8))
            file_note(f"ExtendedData field(s) that are no camera field were ignored: {listed}")
        settle_types(untyped, path)
        for i, reason in settle_speeds(records, speeds, own=own and bool(records)):
            records[i].notes.append(f"{reason}; speed left empty")
        yield from items

    @staticmethod
    def _record(line: int, placemark) -> tuple[Record, TextSpeed | None, bool, list[str], bool]:
        """The placemark's record, the speed its texts state (set once the file's unit is
        known), whether it has our own export's data (type and ref), the ExtendedData
        names that are no camera field and whether it says its type."""
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
        raw = _lines(_element_text(desc_el) if desc_el is not None else "")
        extended = _extended_data(placemark)
        tags = tag_lines(raw) or {}
        description = "" if tags else " ".join(raw.split())
        if extended.keys() & _OSM_DATA:
            tags = {**extended, **tags}
            extended = {}
        ours = "type" in extended and "ref" in extended
        lat, lon = positions[0]
        exported = export_name(name, " ") if ours else None
        rec, speed, osm, info = named_point(line, lat, lon, name, description, tags, exported)
        if line_string is not None:
            if len(positions) < 2:
                raise ValueError(f"a LineString section needs at least 2 positions, got {len(positions)}")
            rec.end_lat, rec.end_lon = positions[-1]
            if rec.kind == Kind.MOBILE:
                rec.type = CameraType.MOBILE_ZONE
            else:
                rec.type = CameraType.SECTION
        apply_properties(rec, extended)
        if extended.get("speed", "").strip():
            speed = None
        typed = (info.typed or osm is not None or line_string is not None
                 or any(extended.get(k, "").strip() for k in ("type", "kind", "reported_at")))
        return rec, speed, ours, [k for k in extended if k not in PROPERTY_NAMES], typed
