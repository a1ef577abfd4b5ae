"""What OpenStreetMap tags say about a camera; shared by the readers, not a reader.

The ``osm`` reader applies these rules to nodes, ways and relations; the GPX and KML readers
to the ``key=value`` lines that Overpass and JOSM exports write into a waypoint's ``<desc>``
or a placemark's ``<description>`` (``point_tags``). The rules follow the OSM wiki pages on
``highway=speed_camera`` and ``type=enforcement`` (summary in docs/formats/osm.md):

- ``enforcement`` values (``;``-separated): ``maxspeed`` -> SPEED, ``traffic_signals`` ->
  RED_LIGHT (RED_LIGHT_SPEED with ``maxspeed``), ``check`` -> POLICE_CHECK (kind MOBILE),
  ``mindistance`` -> DISTANCE, other camera enforcement -> OTHER; ``toll``, ``maxweight``...
  (``NOT_CAMERAS``) are not cameras;
- ``camera:type=mobile`` -> MOBILE_CAMERA (kind MOBILE);
- ``maxspeed`` with units (``30 mph`` -> 48); a bare number is km/h, as OSM defines it;
- ``direction`` is the angle the camera faces (degrees or a compass point); the checked
  traffic travels the opposite way; ``forward``/``backward``/``both`` refer to the way the
  node is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from exporters.schema import CameraType, DirectionMode, Kind

from .base import parse_heading, parse_speed

ENFORCEMENT_TYPES = {
    "maxspeed": CameraType.SPEED,
    "traffic_signals": CameraType.RED_LIGHT,
    "check": CameraType.POLICE_CHECK,
    "mindistance": CameraType.DISTANCE,
}
NOT_CAMERAS = frozenset({"toll", "maxweight", "maxheight", "maxwidth", "maxlength", "maxaxleload"})
AVERAGE_SPEED = "average_speed"
# camera enforcement without a type of its own (read as OTHER without a note)
OTHER_ENFORCEMENT = frozenset({"mobile_phone", "seatbelt", "access", "noise", "parking", "traffic_signs"})
YES = frozenset({"yes", "true", "1", "building_passage", "avalanche_protector"})


def values(text) -> list[str]:
    """The ``;``-separated values of a tag, lower case."""
    return [v.strip().lower() for v in str(text or "").split(";") if v.strip()]


def tag_speed(value, what: str, notes: list[str]) -> int | None:
    """A ``maxspeed`` value in km/h; a value that is no speed (``DE:urban``, ``signals``) is
    None with a note in ``notes``."""
    if value is None or not str(value).strip():
        return None
    try:
        return parse_speed(value)
    except ValueError:
        notes.append(f"{what} {value!r} is not a speed in km/h; speed left empty")
        return None


def road_of(tags: dict) -> str:
    return (tags.get("ref") or tags.get("name") or "").strip()


def text_of(tags: dict) -> str:
    """name; description; ref NN: the words of an object for the camera's description."""
    parts = []
    for key in ("name", "description"):
        value = " ".join(str(tags.get(key) or "").split())
        if value and value not in parts:
            parts.append(value)
    ref = " ".join(str(tags.get("ref") or "").split())
    if ref:
        parts.append(f"ref {ref}")
    return "; ".join(parts)


def camera_type(found: list[str], mobile: bool) -> tuple[CameraType, Kind]:
    """Type and kind of a camera from its enforcement values and ``camera:type=mobile``."""
    types = {ENFORCEMENT_TYPES.get(v, CameraType.OTHER) for v in found}
    if CameraType.POLICE_CHECK in types:
        return CameraType.POLICE_CHECK, Kind.MOBILE
    if mobile:
        return CameraType.MOBILE_CAMERA, Kind.MOBILE
    if CameraType.RED_LIGHT in types:
        return (CameraType.RED_LIGHT_SPEED if CameraType.SPEED in types else CameraType.RED_LIGHT), Kind.FIXED
    for type_ in (CameraType.SPEED, CameraType.DISTANCE, CameraType.OTHER):
        if type_ in types:
            return type_, Kind.FIXED
    return CameraType.SPEED, Kind.FIXED


def angle_between(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


def combine(headings: list[float]) -> tuple[float | None, DirectionMode, str]:
    """One heading and mode from several: same way -> ONE, opposite -> BOTH, crossing -> ALL."""
    first = headings[0]
    diffs = [angle_between(first, h) for h in headings[1:]]
    if any(45.0 < d < 135.0 for d in diffs):
        listed = ", ".join(f"{h:.0f}°" for h in headings)
        return None, DirectionMode.ALL, f"directions {listed} cross; direction left open"
    mode = DirectionMode.BOTH if any(d >= 135.0 for d in diffs) else DirectionMode.ONE
    return round(first, 1) % 360.0, mode, ""


def direction(value: str, along: Callable[[], float | None], notes: list[str]) -> tuple[float | None, DirectionMode]:
    """Heading of the checked traffic and its mode from a ``direction`` tag.

    Degrees and compass points are the angle the camera faces; it photographs oncoming
    traffic, so the traffic travels the opposite way. ``forward``/``backward``/``both`` take
    ``along()``, the bearing of the way at the node (None when the way is unknown).
    """
    headings = []
    for part in (p.strip() for p in str(value).split(";")):
        if not part:
            continue
        low = part.lower()
        if low in ("forward", "backward", "both"):
            bearing = along()
            if bearing is None:
                notes.append(f"direction={part} refers to the way the camera is on, which is not in the "
                             f"file; direction left open")
                return None, DirectionMode.ALL
            if low in ("forward", "both"):
                headings.append(bearing)
            if low in ("backward", "both"):
                headings.append((bearing + 180.0) % 360.0)
            continue
        try:
            facing = parse_heading(part)
        except ValueError:
            facing = None
        if facing is None:
            notes.append(f"direction={value!r} is not degrees, a compass point or forward/backward; "
                         f"direction left open")
            return None, DirectionMode.ALL
        headings.append((facing + 180.0) % 360.0)  # the camera faces the oncoming traffic
    if not headings:
        return None, DirectionMode.ALL
    heading, mode, note = combine(headings)
    if note:
        notes.append(note)
    return heading, mode


# --------------------------------------------------------------------------- tags in text

_TAG_LINE = re.compile(r"^\s*(@?[A-Za-z_][\w:.-]*)\s*=\s*(.*?)\s*$")
# a further tag on the same line: whitespace, a key, "=" (no space before it)
_NEXT_TAG = re.compile(r"\s+(?=@?[A-Za-z_][\w:.-]*=)")
_OSM_ID = re.compile(r"^(node|way|relation)/(\d+)$")
# keys that say a text holds OSM tags (a single "name=..." line is not enough)
_OSM_KEYS = frozenset({"highway", "enforcement", "maxspeed", "camera:type", "@id", "id", "direction", "type",
                       "speed_camera", "traffic_signals"})


def tag_lines(text: str) -> dict[str, str] | None:
    """The ``key=value`` tags of a text, or None when the text is not such a list.

    Tags stand one per line (overpass turbo, JOSM) or, where a tool joined the lines, side by
    side: a value runs to the next ``key=`` that follows whitespace, so ``name=Blitzer
    Leopoldstraße maxspeed=50`` is two tags. Every non-empty line must start with
    ``key=value`` and one key must be an OSM camera key (``highway``, ``enforcement``,
    ``maxspeed``, ``@id``...).
    """
    if not text or "=" not in text:
        return None
    tags: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        first, *more = _NEXT_TAG.split(line.strip())
        match = _TAG_LINE.match(first)
        if match is None:
            return None
        tags[match.group(1)] = match.group(2)
        for part in more:
            key, _, value = part.partition("=")
            tags[key] = value.strip()
    return tags if tags.keys() & _OSM_KEYS else None


@dataclass
class PointTags:
    """What the tags of one point (an exported OSM node) say."""

    type: CameraType
    kind: Kind
    speed: int | None = None
    truck_speed: int | None = None
    heading: float | None = None
    dir_mode: DirectionMode = DirectionMode.ALL
    ref: str = ""
    road: str = ""
    description: str = ""
    notes: list[str] = field(default_factory=list)


def osm_ref(tags: dict) -> str:
    """``node/123`` from ``@id`` or ``id`` (``node/123``, or a bare number: a node)."""
    for key in ("@id", "id"):
        value = str(tags.get(key) or "").strip()
        if _OSM_ID.match(value):
            return value
        if value.isdigit():
            return f"node/{value}"
    return ""


def point_tags(tags: dict) -> PointTags:
    """A camera from the tags of a lone point, with the ``osm`` reader's rules.

    ``enforcement=average_speed`` on a lone point is a section start (one point cannot say
    start or end); ``toll`` and the other non-camera values are left out; enforcement values
    the rules do not know become OTHER. Each of these is noted in ``notes``.
    """
    notes: list[str] = []
    found = values(tags.get("enforcement"))
    dropped = [v for v in found if v in NOT_CAMERAS]
    if dropped:
        notes.append(f"enforcement={';'.join(dropped)} is not camera enforcement; left out")
    found = [v for v in found if v not in NOT_CAMERAS]
    unknown = [v for v in found if v not in ENFORCEMENT_TYPES and v != AVERAGE_SPEED and v not in OTHER_ENFORCEMENT]
    if unknown:
        notes.append(f"enforcement={';'.join(unknown)} is not a known camera type; read as other")
    mobile = "mobile" in values(tags.get("camera:type"))
    if AVERAGE_SPEED in found and not mobile:
        type_, kind = CameraType.SECTION_START, Kind.FIXED
        notes.append("enforcement=average_speed on a single point: read as a section start")
    else:
        type_, kind = camera_type([v for v in found if v != AVERAGE_SPEED], mobile)
    if type_ == CameraType.SPEED and tags.get("tunnel") in YES:
        type_ = CameraType.TUNNEL
    point = PointTags(type_, kind, ref=osm_ref(tags), description=text_of(tags), notes=notes)
    point.speed = tag_speed(tags.get("maxspeed"), "maxspeed", notes)
    point.truck_speed = tag_speed(tags.get("maxspeed:hgv"), "maxspeed:hgv", notes)
    if tags.get("direction"):
        point.heading, point.dir_mode = direction(tags["direction"], lambda: None, notes)
    return point
