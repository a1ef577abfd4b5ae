"""An independent checker of Mercedes-Benz COMAND personal POI files (GPX with Daimler's
extensions), written from the community's published description (gplv2/mercedespoi,
DAIMLER_GPX_FORMAT.md: "File Structure", "Extension Elements", "POI Icon Table", "SD Card
Structure", "POI Limits"), not from the exporter.

It parses the raw XML with expat without namespace processing, so it sees the prefixes the
head unit sees, and checks:

- the file is well-formed UTF-8 XML; the root is ``gpx:gpx`` with ``version="1.1"``; the
  ``gpx`` prefix is bound to the GPX 1.1 namespace and ``gpxd`` to a Daimler extension
  namespace (V2.4, V2.7.2 or V2.7.4);
- every element is prefixed: ``gpx:`` for GPX elements, ``gpxd:`` for the extension, and
  they nest as the description shows: ``gpx:gpx`` > ``gpx:wpt`` (``lat``, ``lon`` decimal
  degrees in range) > ``gpx:name`` (non-empty) and ``gpx:extensions`` > one
  ``gpxd:WptExtension`` > the known extension elements, each at most once, in the order
  WptIconId, POICategory, Activity, Presentation, Address, Phone;
- ``WptIconId IconId`` an integer 1-19; ``POICategory Cat`` non-empty; ``Activity``: ``Active``
  true/false, ``Level`` warning/information/sound, ``Unit`` second/kilometer/mile, ``Value`` a
  non-negative decimal number; ``Presentation ShowOnMap`` true/false;
- for a card (``check_card``): the files sit in ``PersonalPOI/``, their names are ASCII
  letters, digits, ``-`` and ``_`` with the extension ``.gpx``, and the POIs of all files
  together are within the limit (above it COMAND ignores every POI on the card).

``read`` returns the waypoints (lat, lon, name and the extension attributes) for the
tests to compare with the cameras.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field

GPX_NS = "http://www.topografix.com/GPX/1/1"
DAIMLER_NAMESPACES = {f"http://www.daimler.com/DaimlerGPXExtensions/V{v}" for v in ("2.4", "2.7.2", "2.7.4")}
EXTENSION_ORDER = ("gpxd:WptIconId", "gpxd:POICategory", "gpxd:Activity", "gpxd:Presentation", "gpxd:Address",
                   "gpxd:Phone")
LEVELS = {"warning", "information", "sound"}
UNITS = {"second", "kilometer", "mile"}
BOOLEANS = {"true", "false"}
CARD_FOLDER = "PersonalPOI"
CARD_FILE = re.compile(r"^[A-Za-z0-9_-]+\.gpx$")
DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
COMAND_LIMIT = 25_000  # the low end of the reported 25,000-30,000


class Invalid(AssertionError):
    """The file breaks the published description."""


@dataclass
class Waypoint:
    lat: float
    lon: float
    name: str = ""
    extension: dict[str, dict[str, str]] = field(default_factory=dict)  # element -> attributes


# where each element may appear: element -> its parent
PARENTS = {
    "gpx:wpt": "gpx:gpx",
    "gpx:name": "gpx:wpt",
    "gpx:extensions": "gpx:wpt",
    "gpxd:WptExtension": "gpx:extensions",
    **{name: "gpxd:WptExtension" for name in EXTENSION_ORDER},
}


def _number(text: str, low: float, high: float, what: str) -> float:
    if not DECIMAL.match(text):
        raise Invalid(f"{what} {text!r} is not a decimal number")
    value = float(text)
    if not low <= value <= high:
        raise Invalid(f"{what} {value} outside {low}..{high}")
    return value


def _check_extension(tag: str, attrs: dict[str, str]) -> None:
    if tag == "gpxd:WptIconId":
        icon = attrs.get("IconId", "")
        if not icon.isdigit() or not 1 <= int(icon) <= 19:
            raise Invalid(f"IconId {icon!r} is not one of COMAND's icons 1-19")
    elif tag == "gpxd:POICategory":
        if not attrs.get("Cat", "").strip():
            raise Invalid("POICategory without a Cat")
    elif tag == "gpxd:Activity":
        missing = {"Active", "Level", "Unit", "Value"} - set(attrs)
        if missing:
            raise Invalid(f"Activity lacks {sorted(missing)}")
        if attrs["Active"] not in BOOLEANS:
            raise Invalid(f"Activity Active={attrs['Active']!r}")
        if attrs["Level"] not in LEVELS:
            raise Invalid(f"Activity Level={attrs['Level']!r}; valid: {sorted(LEVELS)}")
        if attrs["Unit"] not in UNITS:
            raise Invalid(f"Activity Unit={attrs['Unit']!r}; valid: {sorted(UNITS)}")
        _number(attrs["Value"], 0, 1e6, "Activity Value")
    elif tag == "gpxd:Presentation":
        if attrs.get("ShowOnMap") not in BOOLEANS:
            raise Invalid(f"Presentation ShowOnMap={attrs.get('ShowOnMap')!r}")


def read(data: bytes) -> list[Waypoint]:
    """The waypoints of a COMAND file; raises ``Invalid`` where it breaks the description."""
    if not data.startswith(b"<?xml"):
        raise Invalid("no XML declaration")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"not UTF-8: {exc}") from None
    parser = xml.parsers.expat.ParserCreate("UTF-8")  # no namespace processing: prefixes as written
    stack: list[str] = []
    waypoints: list[Waypoint] = []
    text: list[str] = []
    seen_ext: list[str] = []

    def start(tag, attrs):
        parent = stack[-1] if stack else None
        if parent is None:
            if tag != "gpx:gpx":
                raise Invalid(f"root element {tag!r}, not gpx:gpx")
            if attrs.get("xmlns:gpx") != GPX_NS:
                raise Invalid(f"prefix gpx bound to {attrs.get('xmlns:gpx')!r}, not {GPX_NS}")
            if attrs.get("xmlns:gpxd") not in DAIMLER_NAMESPACES:
                raise Invalid(f"prefix gpxd bound to {attrs.get('xmlns:gpxd')!r}, not a Daimler namespace")
            if "xmlns" in attrs:
                raise Invalid("a default namespace: COMAND files prefix every element")
            if attrs.get("version") != "1.1":
                raise Invalid(f"gpx version {attrs.get('version')!r}")
        else:
            if not (tag.startswith("gpx:") or tag.startswith("gpxd:")):
                raise Invalid(f"element {tag!r} without the gpx: or gpxd: prefix")
            if PARENTS.get(tag) != parent:
                raise Invalid(f"{tag} inside {parent}")
        if tag == "gpx:wpt":
            lat = _number(attrs.get("lat", ""), -90, 90, "lat")
            lon = _number(attrs.get("lon", ""), -180, 180, "lon")
            waypoints.append(Waypoint(lat, lon))
        elif tag == "gpx:name":
            if waypoints[-1].name:
                raise Invalid("two names in one waypoint")
            text.clear()
        elif tag == "gpx:extensions":
            if waypoints[-1].extension:
                raise Invalid("two extension blocks in one waypoint")
        elif tag == "gpxd:WptExtension":
            seen_ext.clear()
        elif tag in EXTENSION_ORDER:
            if tag in seen_ext:
                raise Invalid(f"{tag} twice in one waypoint")
            if seen_ext and EXTENSION_ORDER.index(tag) < EXTENSION_ORDER.index(seen_ext[-1]):
                raise Invalid(f"{tag} after {seen_ext[-1]}: the order is {', '.join(EXTENSION_ORDER)}")
            _check_extension(tag, attrs)
            seen_ext.append(tag)
            text.clear()
            waypoints[-1].extension[tag.split(":", 1)[1]] = dict(attrs)
        stack.append(tag)

    def end(tag):
        stack.pop()
        if tag == "gpx:name":
            name = "".join(text)
            if not name.strip():
                raise Invalid("an empty gpx:name")
            waypoints[-1].name = name
        elif tag in EXTENSION_ORDER and text and "".join(text).strip():
            raise Invalid(f"text inside {tag}")

    def chars(data):
        if stack and stack[-1] in ("gpx:name", *EXTENSION_ORDER):
            text.append(data)
        elif data.strip():
            raise Invalid(f"text {data.strip()[:20]!r} inside {stack[-1] if stack else 'the document'}")

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise Invalid(f"not well-formed XML: {exc}") from None
    return waypoints


def check_card(files: dict[str, bytes], limit: int = COMAND_LIMIT) -> dict[str, list[Waypoint]]:
    """Every file of an SD card (path -> bytes, '/'-separated): the GPX files must sit in
    ``PersonalPOI/`` with ASCII names, and all of them together hold at most ``limit`` POIs."""
    out = {}
    for path, data in files.items():
        if not path.isascii():
            raise Invalid(f"file name {path!r} is not ASCII")
        folder, _, name = path.rpartition("/")
        if folder != CARD_FOLDER:
            raise Invalid(f"{path}: POI files go in {CARD_FOLDER}/ at the card's root")
        if not CARD_FILE.match(name):
            raise Invalid(f"{path}: a name of ASCII letters, digits, '-' and '_' with .gpx is expected")
        out[path] = read(data)
    total = sum(len(w) for w in out.values())
    if total > limit:
        raise Invalid(f"{total} POIs on the card: above {limit} COMAND ignores every one of them")
    return out
