"""OpenStreetMap speed cameras (readers ``osm`` and ``osm-feed-json``).

``osm`` reads OSM data as Overpass JSON (``{"elements": [...]}``) or OSM XML (``<osm>``),
streamed with defusedxml's SAX parser (entity declarations and external references are
refused). Tagging follows the OSM wiki pages on ``highway=speed_camera`` and
``type=enforcement`` relations (summary in docs/formats/osm.md):

Which objects are cameras
  - every node tagged ``highway=speed_camera``;
  - every ``device`` member of a ``type=enforcement`` relation (a camera mapped only
    through the relation, e.g. a red-light camera node without ``highway=speed_camera``).
  A node that is both comes out ONCE: the relations enrich the node (``ref`` =
  ``node/<id>``). A relation whose device is a way (position = mean of the way's nodes)
  gives ``ref`` = ``relation/<id>``. A node tagged only ``camera:type=mobile`` without
  ``highway=speed_camera`` is not imported (that tag is mostly used on surveillance cameras).

Type and kind
  - relation ``enforcement`` (``;``-separated values are combined): ``maxspeed`` -> SPEED,
    ``traffic_signals`` -> RED_LIGHT (RED_LIGHT_SPEED together with ``maxspeed``),
    ``check`` -> POLICE_CHECK (kind MOBILE), ``mindistance`` -> DISTANCE, other camera
    enforcement (``mobile_phone``, ``seatbelt``, ``access``, ...) -> OTHER;
    ``toll``, ``maxweight``, ``maxheight``, ``maxwidth``, ``maxlength`` and ``maxaxleload``
    are not cameras: the relation is a rejection and does not change its device node. An
    ``enforcement=*`` tag on the camera node itself counts the same.
  - ``camera:type=mobile`` -> kind MOBILE, type MOBILE_CAMERA.
  - a plain ``highway=speed_camera`` node -> SPEED (TUNNEL when the node or the way it is
    on is tagged ``tunnel=yes``).
  - ``enforcement=average_speed`` -> ONE Record of type SECTION per relation (not a
    SECTION_START/SECTION_END pair): position = the ``from`` node (else the first device,
    else the first node of the first ``section`` way), end = the ``to`` node (else the last
    device, else the last node of the last section way); ``ref`` = ``relation/<id>``;
    heading = bearing start -> end with dir_mode ONE when from/to define the travel
    direction, ALL when it comes from device or way order. Camera nodes that are members
    of a section relation (any role) and of no other enforcement relation are part of the
    section and are not emitted on their own.

Speed
  ``maxspeed`` of the relation, else of the camera node, else of the way the node is on,
  parsed with units (``30 mph`` -> 48); values such as ``DE:urban`` or ``signals`` leave the
  speed empty (with a note), they are not a rejection. ``maxspeed:hgv`` -> truck_speed.

Direction (heading = direction of travel of the checked traffic)
  1. Relations (most reliable, override node tags): bearing from the ``from`` node to the
     device (else from the device to the ``to`` node) -> dir_mode ONE. Bearings from
     several relations of one device that are opposite (e.g. two relations with opposite
     ``from`` nodes) -> BOTH with the first heading; crossing bearings -> ALL.
  2. Node ``direction=<degrees or compass point>`` is the angle the camera FACES.
     ASSUMPTION: cameras photograph oncoming traffic (front-facing, the common case in
     Europe), so the checked traffic travels at (facing + 180) % 360 -> dir_mode ONE. Two
     ``;``-separated opposite values -> BOTH. Rear-facing cameras cannot be told apart in OSM.
  3. ``direction=forward`` / ``backward`` / ``both`` refer to the drawing direction of the
     way the node is on: the way's bearing at the node (or +180°) when the way is in the
     file; otherwise the heading stays empty (dir_mode ALL) with a note.

``Record.line`` is the element's 1-based position in the file (nodes, ways and relations
counted together); a camera found through a relation only uses the relation's position.
A node whose coordinates are missing or unusable is a rejection; so is an Overpass
``remark`` (usually a timeout: the data is incomplete).

``osm-feed-json`` reads the per-country files of the osm-cameras-feed project:
``{"results": [{"id": "osm-123", "lat": .., "lon": .., "type": "fixed_camera", "confidence": 80}]}``
-> ref ``node/123``; ``fixed_camera`` -> SPEED (fixed), ``mobile_possible_camera`` ->
MOBILE_CAMERA (mobile). ``confidence`` is not used.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from defusedxml.expatreader import DefusedExpatParser

from exporters.schema import CameraType, DirectionMode, Kind

from .base import (
    FormatError,
    Reader,
    Record,
    Rejection,
    bearing,
    checked_point,
    json_head_kind,
    load_json,
    point_problem,
    register,
)
from .osm_tags import (
    AVERAGE_SPEED,
    NOT_CAMERAS,
    YES,
    camera_type,
    combine,
    direction,
    road_of,
    tag_speed,
    text_of,
    values,
)
from .xml_helpers import xml_guard, xml_root_name

# --------------------------------------------------------------------------- collected data


@dataclass(slots=True)
class _Relation:
    id: object
    line: int
    values: list[str]
    tags: dict
    devices: list = field(default_factory=list)        # node ids
    device_ways: list = field(default_factory=list)    # way ids
    froms: list = field(default_factory=list)
    tos: list = field(default_factory=list)
    section_ways: list = field(default_factory=list)


class _OsmData:
    """Everything the camera rules need, filled by the JSON or the XML parser."""

    __slots__ = ("coords", "tags", "lines", "bad", "ways", "relations", "remarks")

    def __init__(self):
        self.coords: dict = {}      # node id -> (lat, lon), every node with numeric coordinates
        self.tags: dict = {}        # node id -> tags, tagged nodes only
        self.lines: dict = {}       # node id -> element position, tagged nodes only
        self.bad: dict = {}         # node id -> why its coordinates are unusable (tagged nodes)
        self.ways: list = []        # (id, [node ids], tags)
        self.relations: list = []   # (id, line, [(type, ref, role)], tags)
        self.remarks: list = []

    def add_node(self, line, nid, lat, lon, tags):
        try:
            point = (float(lat), float(lon))
            if not (math.isfinite(point[0]) and math.isfinite(point[1])):
                raise ValueError
        except (TypeError, ValueError):
            point = None
        if point is not None:
            self.coords[nid] = point
        if tags:
            self.tags[nid] = tags
            self.lines.setdefault(nid, line)
            if point is None:
                self.bad[nid] = (f"node/{nid}: latitude {lat!r} / longitude {lon!r} are missing or not numbers"
                                 if lat is not None or lon is not None else f"node/{nid} has no lat/lon")


# --------------------------------------------------------------------------- parsers


def _from_json(doc, path: Path) -> _OsmData:
    elements = doc.get("elements") if isinstance(doc, dict) else None
    if not isinstance(elements, list):
        raise FormatError(f"{path}: not Overpass JSON (no \"elements\" list)")
    data = _OsmData()
    remark = doc.get("remark")
    if remark:
        data.remarks.append(str(remark))
    coords = data.coords

    def tags_of(el):
        tags = el.get("tags")
        if not isinstance(tags, dict):
            return {}
        # OSM tag values are text: a JSON number is taken as written, null/true/lists/objects dropped
        return {str(k): v if isinstance(v, str) else str(v) for k, v in tags.items()
                if isinstance(v, (str, int, float)) and not isinstance(v, bool)}

    for line, el in enumerate(elements, 1):
        if not isinstance(el, dict) or not isinstance(el.get("id"), (int, str)):
            continue
        kind = el.get("type")
        if kind == "node":
            data.add_node(line, el["id"], el.get("lat"), el.get("lon"), tags_of(el))
        elif kind == "way":
            nodes = [n for n in el.get("nodes") or () if isinstance(n, (int, str))] \
                if isinstance(el.get("nodes"), list) else []
            geometry = el.get("geometry")
            if isinstance(geometry, list) and len(geometry) == len(nodes):  # "out geom"
                for nid, point in zip(nodes, geometry):
                    if isinstance(point, dict) and nid not in coords:
                        data.add_node(line, nid, point.get("lat"), point.get("lon"), None)
            data.ways.append((el["id"], nodes, tags_of(el)))
        elif kind == "relation":
            members = []
            for m in el.get("members") if isinstance(el.get("members"), list) else ():
                if not isinstance(m, dict) or not isinstance(m.get("ref"), (int, str)):
                    continue
                members.append((m.get("type"), m.get("ref"), m.get("role") if isinstance(m.get("role"), str) else ""))
                if m.get("type") == "node" and "lat" in m and m.get("ref") not in coords:  # "out geom"
                    data.add_node(line, m.get("ref"), m.get("lat"), m.get("lon"), None)
            data.relations.append((el["id"], line, members, tags_of(el)))
    return data


class _XmlCollector:
    """Collects nodes, ways and relations of an OSM XML stream into ``_OsmData``.

    Its ``start``/``end`` methods are expat element handlers (``attrs`` is a dict).
    """

    def __init__(self, data: _OsmData, path: Path):
        self.data, self.path = data, path
        self.expat = None         # the expat parser, set by _OsmExpatParser.reset
        self.started = False
        self.line = 0
        self.kind = None          # "node" / "way" / "relation" while inside one
        self.skip = False         # deleted / invisible object
        self.attrs = None
        self.tags = None
        self.nodes = None
        self.members = None
        self.remark = None

    def start(self, name, attrs):
        if name == "nd":
            if self.nodes is not None:
                self.nodes.append(attrs.get("ref"))
        elif name == "tag":
            if self.kind is not None:
                if self.tags is None:
                    self.tags = {}
                self.tags[attrs.get("k", "")] = attrs.get("v", "")
        elif name == "node":
            self._open(name, attrs)
            self.attrs = (attrs.get("id"), attrs.get("lat"), attrs.get("lon"))
        elif name == "member":
            if self.members is not None:
                self.members.append((attrs.get("type"), attrs.get("ref"), attrs.get("role", "")))
        elif name == "way":
            self._open(name, attrs)
            self.attrs = attrs.get("id")
            self.nodes = []
        elif name == "relation":
            self._open(name, attrs)
            self.attrs = attrs.get("id")
            self.members = []
        elif not self.started:
            if name != "osm":
                raise FormatError(f"{self.path}: not OSM XML (the root element is <{name}>, expected <osm>)")
            self.started = True
        elif name == "remark":
            self.remark = []
            self.expat.CharacterDataHandler = self.remark.append

    def _open(self, name, attrs):
        if not self.started:
            raise FormatError(f"{self.path}: not OSM XML (the root element is <{name}>, expected <osm>)")
        self.line += 1
        self.kind = name
        self.tags = None
        self.skip = attrs.get("visible") == "false" or attrs.get("action") == "delete"

    def end(self, name):
        if name == "node" and self.kind == "node":
            if not self.skip:
                nid, lat, lon = self.attrs
                self.data.add_node(self.line, nid, lat, lon, self.tags)
            self.kind = None
        elif name == "way" and self.kind == "way":
            if not self.skip:
                self.data.ways.append((self.attrs, self.nodes, self.tags or {}))
            self.kind, self.nodes = None, None
        elif name == "relation" and self.kind == "relation":
            if not self.skip:
                self.data.relations.append((self.attrs, self.line, self.members, self.tags or {}))
            self.kind, self.members = None, None
        elif name == "remark" and self.remark is not None:
            self.expat.CharacterDataHandler = None
            text = " ".join("".join(self.remark).split())
            if text:
                self.data.remarks.append(text)
            self.remark = None


class _OsmExpatParser(DefusedExpatParser):
    """defusedxml's SAX driver (entity and external-reference defences installed by its
    ``reset``) with the collector wired straight to expat: no SAX attribute objects and no
    character callbacks per element, which roughly halves the time for a large extract."""

    def __init__(self, collector: _XmlCollector):
        super().__init__()
        self._collector = collector

    def reset(self):
        super().reset()
        parser = self._parser
        parser.StartElementHandler = self._collector.start
        parser.EndElementHandler = self._collector.end
        parser.CharacterDataHandler = None
        parser.ProcessingInstructionHandler = None
        self._collector.expat = parser


def _from_xml(path: Path) -> _OsmData:
    data = _OsmData()
    collector = _XmlCollector(data, path)
    with xml_guard(path):
        _OsmExpatParser(collector).parse(str(path))
    if not collector.started:
        raise FormatError(f"{path}: not OSM XML (no <osm> root element)")
    return data


# --------------------------------------------------------------------------- camera rules


class _Builder:
    """Turns collected OSM data into Records and Rejections."""

    def __init__(self, data: _OsmData, fname: str):
        self.data, self.fname = data, fname
        self.out: list[Record | Rejection] = []
        self.way_at: dict = {}       # node id -> (way nodes, index, way tags)
        self.ways_by_id: dict = {}

    def reject(self, line, reason):
        self.out.append(Rejection(self.fname, line, reason))

    # ---- geometry helpers
    def way_bearing(self, nid) -> float | None:
        found = self.way_at.get(nid)
        if not found:
            return None
        nodes, i, _ = found
        coords = self.data.coords
        a = coords.get(nodes[i - 1] if i > 0 else nodes[i])
        b = coords.get(nodes[i + 1] if i + 1 < len(nodes) else nodes[i])
        if a is None or b is None or a == b:
            return None
        return bearing(a[0], a[1], b[0], b[1])

    def way_tags(self, nid) -> dict:
        found = self.way_at.get(nid)
        return found[2] if found else {}

    def index_ways(self, needed: set, wanted_ways: set):
        for wid, nodes, tags in self.data.ways:
            if wid in wanted_ways:
                self.ways_by_id[wid] = (nodes, tags)
            hits = needed.intersection(nodes)
            if not hits:
                continue
            is_road = "highway" in tags
            for nid in hits:
                old = self.way_at.get(nid)
                if old is None or (is_road and "highway" not in old[2]):
                    self.way_at[nid] = (nodes, nodes.index(nid), tags)

    # ---- main
    def build(self) -> list[Record | Rejection]:
        data = self.data
        for remark in data.remarks:
            self.reject(0, f"Overpass remark: {remark} (the data is probably incomplete)")
        spot: dict = defaultdict(list)      # device node id -> [_Relation]
        relation_only: list[_Relation] = []
        sections: list[_Relation] = []
        for rid, line, members, tags in data.relations:
            if tags.get("type") != "enforcement":
                continue
            found = values(tags.get("enforcement"))
            if not found:
                self.reject(line, f"relation/{rid}: type=enforcement without an enforcement=* value")
                continue
            rel = _Relation(rid, line, found, tags)
            for mtype, ref, role in members:
                role = (role or "").strip().lower()
                if mtype == "node":
                    {"device": rel.devices, "from": rel.froms, "to": rel.tos}.get(role, []).append(ref)
                elif mtype == "way" and role == "device":
                    rel.device_ways.append(ref)
                elif mtype == "way" and role == "section":
                    rel.section_ways.append(ref)
            if AVERAGE_SPEED in found:
                sections.append(rel)
                continue
            rel.values = [v for v in found if v not in NOT_CAMERAS]
            if not rel.values:
                self.reject(line, f"relation/{rid}: enforcement={tags.get('enforcement')!r} is not camera "
                                  f"enforcement; skipped")
                continue
            if rel.devices:
                for nid in dict.fromkeys(rel.devices):
                    spot[nid].append(rel)
            else:
                relation_only.append(rel)

        in_sections = set()
        for rel in sections:
            in_sections.update(rel.devices, rel.froms, rel.tos)
        cameras = [nid for nid, tags in data.tags.items()
                   if tags.get("highway") == "speed_camera" and (nid in spot or nid not in in_sections)]
        seen = set(cameras)
        cameras += [nid for nid in spot if nid not in seen]

        wanted_ways = {w for rel in relation_only for w in rel.device_ways}
        wanted_ways.update(w for rel in sections for w in rel.section_ways)
        needed = set(cameras)
        for rel in sections:
            needed.update(rel.devices)
        self.index_ways(needed, wanted_ways)

        for nid in cameras:
            self.node_camera(nid, spot.get(nid, []))
        for rel in relation_only:
            self.relation_camera(rel)
        for rel in sections:
            self.section(rel)
        self.out.sort(key=lambda item: item.line)
        return self.out

    def node_camera(self, nid, rels: list[_Relation]):
        data = self.data
        tags = data.tags.get(nid, {})
        line = data.lines.get(nid) or (rels[0].line if rels else 0)
        point = data.coords.get(nid)
        if point is None:
            if nid in data.bad:
                reason = data.bad[nid]
            else:
                reason = (f"device node/{nid} of relation/{rels[0].id} is not in the file (download the "
                          f"relation's members too, e.g. Overpass '>;')")
            self.reject(line, reason)
            return
        problem = point_problem(point[0], point[1], f"node/{nid} position")
        if problem:
            self.reject(line, problem)
            return
        notes: list[str] = []
        found = [v for rel in rels for v in rel.values]
        found += [v for v in values(tags.get("enforcement")) if v not in NOT_CAMERAS and v != AVERAGE_SPEED]
        mobile = any("mobile" in values(t.get("camera:type")) for t in [tags, *(r.tags for r in rels)])
        type_, kind = camera_type(found, mobile)
        way_tags = self.way_tags(nid)
        if type_ == CameraType.SPEED and (tags.get("tunnel") in YES or way_tags.get("tunnel") in YES):
            type_ = CameraType.TUNNEL

        speed = None
        for rel in rels:
            speed = tag_speed(rel.tags.get("maxspeed"), f"relation/{rel.id} maxspeed", notes)
            if speed is not None:
                break
        if speed is None:
            speed = tag_speed(tags.get("maxspeed"), "maxspeed", notes)
        if speed is None and not tags.get("maxspeed"):
            speed = tag_speed(way_tags.get("maxspeed"), "road maxspeed", notes)

        heading, mode = None, DirectionMode.ALL
        bearings = []
        for rel in rels:
            bearings += self.relation_bearings(rel, point)
        if bearings:
            heading, mode, note = combine(bearings)
            if note:
                notes.append(note)
        elif tags.get("direction"):
            heading, mode = direction(tags["direction"], lambda: self.way_bearing(nid), notes)

        description = text_of(tags) or next((text_of(r.tags) for r in rels if text_of(r.tags)), "")
        self.out.append(Record(
            line=line, lat=point[0], lon=point[1], type=type_, kind=kind, ref=f"node/{nid}", speed=speed,
            truck_speed=tag_speed(tags.get("maxspeed:hgv"), "maxspeed:hgv", notes), heading=heading,
            dir_mode=mode, road=road_of(way_tags), description=description, notes=notes))

    def relation_bearings(self, rel: _Relation, device: tuple[float, float]) -> list[float]:
        coords = self.data.coords
        out = []
        for nid in rel.froms:
            start = coords.get(nid)
            if start is not None and start != device:
                out.append(bearing(start[0], start[1], device[0], device[1]))
        if not out:
            for nid in rel.tos:
                end = coords.get(nid)
                if end is not None and end != device:
                    out.append(bearing(device[0], device[1], end[0], end[1]))
        return out

    def way_points(self, wid) -> list[tuple[float, float]]:
        nodes, _ = self.ways_by_id.get(wid, ((), {}))
        coords = self.data.coords
        return [coords[n] for n in nodes if n in coords]

    def relation_camera(self, rel: _Relation):
        points = [p for wid in rel.device_ways for p in self.way_points(wid)]
        if not points:
            what = ("device way(s) " + ", ".join(f"way/{w}" for w in rel.device_ways) + " are not in the file"
                    if rel.device_ways else "it has no device member")
            self.reject(rel.line, f"relation/{rel.id}: the camera position is unknown: {what}")
            return
        lat = sum(p[0] for p in points) / len(points)
        lon = sum(p[1] for p in points) / len(points)
        problem = point_problem(lat, lon, f"relation/{rel.id} device position")
        if problem:
            self.reject(rel.line, problem)
            return
        notes: list[str] = []
        type_, kind = camera_type(rel.values, "mobile" in values(rel.tags.get("camera:type")))
        heading, mode = None, DirectionMode.ALL
        bearings = self.relation_bearings(rel, (lat, lon))
        if bearings:
            heading, mode, note = combine(bearings)
            if note:
                notes.append(note)
        self.out.append(Record(
            line=rel.line, lat=lat, lon=lon, type=type_, kind=kind, ref=f"relation/{rel.id}",
            speed=tag_speed(rel.tags.get("maxspeed"), "maxspeed", notes), heading=heading, dir_mode=mode,
            description=text_of(rel.tags), notes=notes))

    def section(self, rel: _Relation):
        coords = self.data.coords
        start = next((coords[n] for n in rel.froms if n in coords), None)
        end = next((coords[n] for n in reversed(rel.tos) if n in coords), None)
        directed = start is not None and end is not None
        devices = [coords[n] for n in rel.devices if n in coords]
        if start is None and devices:
            start = devices[0]
        if end is None and devices and devices[-1] != start:
            end = devices[-1]
        if start is None or end is None:
            points = [p for wid in rel.section_ways for p in self.way_points(wid)]
            if points:
                start = start or points[0]
                end = end if end is not None else (points[-1] if points[-1] != start else None)
        if start is None or end is None:
            self.reject(rel.line, f"relation/{rel.id}: the average_speed section needs a start and an end "
                                  f"(from/to nodes, two device nodes or section ways in the file)")
            return
        for point, what in ((start, "start"), (end, "end")):
            problem = point_problem(point[0], point[1], f"relation/{rel.id} {what}")
            if problem:
                self.reject(rel.line, problem)
                return
        notes: list[str] = []
        speed = tag_speed(rel.tags.get("maxspeed"), "maxspeed", notes)
        road = ""
        for nid in rel.devices:
            if speed is None:
                speed = tag_speed(self.data.tags.get(nid, {}).get("maxspeed"), f"node/{nid} maxspeed", notes)
            road = road or road_of(self.way_tags(nid))
        for wid in rel.section_ways:
            wtags = self.ways_by_id.get(wid, ((), {}))[1]
            if speed is None:
                speed = tag_speed(wtags.get("maxspeed"), f"way/{wid} maxspeed", notes)
            road = road_of(wtags) or road
            if road:
                break
        heading = round(bearing(start[0], start[1], end[0], end[1]), 1) % 360.0 if start != end else None
        self.out.append(Record(
            line=rel.line, lat=start[0], lon=start[1], type=CameraType.SECTION, kind=Kind.FIXED,
            ref=f"relation/{rel.id}", speed=speed, heading=heading,
            dir_mode=DirectionMode.ONE if directed and heading is not None else DirectionMode.ALL,
            road=road, description=text_of(rel.tags), end_lat=end[0], end_lon=end[1], notes=notes))


# --------------------------------------------------------------------------- readers

_ELEMENTS = re.compile(r'"elements"\s*:\s*\[')
_OVERPASS = re.compile(r'"generator"\s*:\s*"Overpass|"osm3s"\s*:')


@register
class OsmReader(Reader):
    name = "osm"
    label = "OpenStreetMap data (Overpass JSON or OSM XML) with highway=speed_camera / enforcement relations"
    extensions = (".osm", ".json", ".xml")

    def sniff(self, head: bytes, path: Path) -> int:
        first, text = json_head_kind(head)
        if first == "{":
            if _ELEMENTS.search(text):
                return 95 if _OVERPASS.search(text) else 90
            return 0
        return 95 if xml_root_name(head) == "osm" else 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        with open(path, "rb") as fh:
            head = fh.read(4096)
        first, _ = json_head_kind(head)
        data = _from_json(load_json(path), path) if first in ("{", "[") else _from_xml(path)
        yield from _Builder(data, path.name).build()


_RESULTS = re.compile(r'"results"\s*:\s*\[')
_FEED_TYPE = re.compile(r'"type"\s*:\s*"(?:fixed_camera|mobile_possible_camera)"')
_FEED_ID = re.compile(r"^osm-(\d+)$")
FEED_TYPES = {
    "fixed_camera": (CameraType.SPEED, Kind.FIXED),
    "mobile_possible_camera": (CameraType.MOBILE_CAMERA, Kind.MOBILE),
}


@register
class OsmFeedJsonReader(Reader):
    name = "osm-feed-json"
    label = "osm-cameras-feed per-country JSON ({\"results\": [{id, lat, lon, type}]})"
    extensions = (".json",)

    def sniff(self, head: bytes, path: Path) -> int:
        first, text = json_head_kind(head)
        if first != "{" or not _RESULTS.search(text):
            return 0
        if _FEED_TYPE.search(text):
            return 95
        if re.search(r'"lat"\s*:', text) and re.search(r'"lon"\s*:', text) and re.search(r'"type"\s*:', text):
            return 60
        return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        doc = load_json(path)
        results = doc.get("results") if isinstance(doc, dict) else None
        if not isinstance(results, list):
            raise FormatError(f"{path}: not an osm-cameras-feed file (no \"results\" list)")
        for line, item in enumerate(results, 1):
            try:
                yield self._record(line, item)
            except ValueError as err:
                yield Rejection(fname, line, str(err))

    @staticmethod
    def _record(line: int, item) -> Record:
        if not isinstance(item, dict):
            raise ValueError(f"result is a JSON {type(item).__name__}, not an object")
        lat, lon = checked_point(item.get("lat"), item.get("lon"))
        feed_type = str(item.get("type") or "").strip()
        if feed_type not in FEED_TYPES:
            raise ValueError(f"type {item.get('type')!r} is unknown; expected one of {', '.join(FEED_TYPES)}")
        type_, kind = FEED_TYPES[feed_type]
        raw_id = str(item.get("id") or "").strip()
        match = _FEED_ID.match(raw_id)
        ref = f"node/{match.group(1)}" if match else raw_id
        return Record(line=line, lat=lat, lon=lon, type=type_, kind=kind, ref=ref)
