"""GPX waypoints as cameras (reader name ``gpx``).

Each top-level ``<wpt>`` is one camera; track and route points are not cameras and are
ignored (a GPX without any waypoint is refused). The waypoint ``<name>`` carries the type
and speed in the Garmin POI Loader style (``max@130``, ``Redlight@60``, ``Mobile``) and is
read by ``classify``; ``<desc>`` / ``<cmt>`` become the description; ``<time>`` on a mobile
waypoint is the report time. Garmin extensions (``gpxx:Proximity``...) are ignored.
``Record.line`` is the waypoint's 1-based index. GPX has no ids, so ``ref`` stays empty.

Parsing is safe: the bytes are parsed with defusedxml (entity declarations, external
references and a DOCTYPE naming an external DTD are refused: ``SafeXMLParser``), and gpxpy then reads each waypoint element of that tree, so one bad
waypoint is one rejection instead of a failed file.

This module also holds the XML helpers the other XML readers of the package share
(``SafeXMLParser``, ``parse_xml``, ``xml_guard``, ``xml_root_name``, ``local``).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Iterator
from xml.etree.ElementTree import ParseError, TreeBuilder
from xml.sax import SAXParseException

import defusedxml.ElementTree as SafeET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from gpxpy.gpx import GPXException, GPXWaypoint
from gpxpy.gpxfield import gpx_fields_from_xml

from exporters.schema import CameraType, Kind

from .base import FormatError, Reader, Record, Rejection, decode, named_record, parse_speed, register
from .geojson import checked_point, head_text

# --------------------------------------------------------------------------- XML helpers


class SafeXMLParser(SafeET.DefusedXMLParser):
    """defusedxml's ElementTree parser (entity declarations and external entity references
    refused) that also refuses a DOCTYPE naming an external DTD (``SYSTEM``/``PUBLIC``), as
    the OSM reader's SAX parser does: no feed needs one, and no later parser (gpxpy, lxml
    if installed) may ever be tempted to fetch it. A bare ``<!DOCTYPE x>`` is harmless."""

    def __init__(self):
        super().__init__(target=TreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True)

    def defused_start_doctype_decl(self, name, sysid, pubid, has_internal_subset):
        if sysid or pubid:
            raise ExternalReferenceForbidden(None, None, sysid or pubid, pubid)


def safe_fromstring(data: bytes):
    """The root element of ``data`` parsed with ``SafeXMLParser`` (defusedxml exceptions
    and ParseError propagate)."""
    parser = SafeXMLParser()
    parser.feed(data)
    return parser.close()


@contextmanager
def xml_guard(path: Path):
    """Turn defusedxml refusals and XML syntax errors into a FormatError naming the file."""
    try:
        yield
    except EntitiesForbidden as err:
        if err.sysid:
            raise FormatError(
                f"{path}: refused: the XML declares an external entity {err.name!r} "
                f"(SYSTEM {err.sysid!r}); external references are not allowed") from None
        raise FormatError(f"{path}: refused: the XML declares entities (possible entity-expansion attack)") from None
    except ExternalReferenceForbidden as err:
        raise FormatError(f"{path}: refused: the XML references an external resource "
                          f"({err.sysid!r}); external references are not allowed") from None
    except DTDForbidden:
        raise FormatError(f"{path}: refused: the XML has a document type declaration") from None
    except ParseError as err:
        raise FormatError(f"{path}: not well-formed XML: {err}") from None
    except SAXParseException as err:
        raise FormatError(f"{path}: not well-formed XML: {err.getMessage()}: line {err.getLineNumber()}, "
                          f"column {err.getColumnNumber()}") from None


_ENCODING_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=", re.I)


def xml_bytes(path: Path) -> bytes:
    """The file's bytes, re-encoded as UTF-8 when they are neither UTF-8 nor declared.

    (A Windows-1252 file without an XML declaration is common in hand-made feeds; expat
    would otherwise stop at the first accented letter.)
    """
    with open(path, "rb") as fh:
        data = fh.read()
    if _ENCODING_DECL.match(data) or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return decode(data)[0].encode("utf-8")


def parse_xml(path: Path):
    """The root element of ``path`` parsed with defusedxml; FormatError on unsafe/bad XML."""
    data = xml_bytes(path)
    if not data.strip():
        raise FormatError(f"{path}: the file is empty; nothing to import")
    with xml_guard(path):
        return safe_fromstring(data)


def local(tag) -> str:
    """Tag name without its ``{namespace}`` (and lower-case free: as written)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


_SPACE = re.compile(r"\s*")
_NAME = re.compile(r"[A-Za-z_][\w.:-]*")


def xml_root_name(head: bytes) -> str | None:
    """The local name of the first element in an XML head (after declaration, comments, DTD).

    A plain scanner (no backtracking regular expression: the head is untrusted input).
    """
    text = head_text(head)
    i, n = 0, len(text)
    while i < n:
        i = _SPACE.match(text, i).end()
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            i = -1 if end < 0 else end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            i = -1 if end < 0 else end + 3
        elif text[i:i + 9].upper() == "<!DOCTYPE":
            end, subset = text.find(">", i), text.find("[", i)
            if 0 <= subset and (end < 0 or subset < end):  # internal subset [ ... ]
                close = text.find("]", subset)
                end = -1 if close < 0 else text.find(">", close)
            i = -1 if end < 0 else end + 1
        elif text.startswith("<", i):
            match = _NAME.match(text, i + 1)
            return match.group(0).rsplit(":", 1)[-1] if match else None
        else:
            return None
        if i < 0:
            return None
    return None


# --------------------------------------------------------------------------- name classification


@dataclass(frozen=True, slots=True)
class NameInfo:
    """What a POI name says: camera type, kind, speed (km/h) and why a speed was dropped."""

    type: CameraType
    kind: Kind
    speed: int | None
    matched: bool      # a keyword or a speed marker was found
    note: str = ""


_SPEED_MARK = re.compile(r"@\s*(\d{1,3}(?:[.,]\d+)?\s*(?:km/?h|mph)?)", re.I)
_MOBILE = re.compile(r"\bmobil(?:e|er|es)?\b", re.I)
_POLICE = re.compile(r"\bpolice\b|\bcheck\s*point\b", re.I)
_SECTION = re.compile(r"\b(?:average|avg|section|moyenne|tron[cç]on|trajectcontrole|tutor)\b", re.I)
_SECTION_END = re.compile(r"\b(?:end|fin|ende)\b", re.I)
_TUNNEL = re.compile(r"\btunnel\b", re.I)
_RED = re.compile(r"\b(?:stop|red(?:[\s_-]*light)?|feux?|rotlicht|ampel)\b", re.I)
_SPEED_WORD = re.compile(r"\b(?:speed|vitesse)\b", re.I)


def _keyword_type(text: str) -> tuple[CameraType, Kind] | None:
    if _MOBILE.search(text):
        return CameraType.MOBILE_CAMERA, Kind.MOBILE
    if _POLICE.search(text):
        return CameraType.POLICE_CHECK, Kind.MOBILE
    if _SECTION.search(text):
        return (CameraType.SECTION_END if _SECTION_END.search(text) else CameraType.SECTION_START), Kind.FIXED
    if _TUNNEL.search(text):
        return CameraType.TUNNEL, Kind.FIXED
    if _RED.search(text):
        return (CameraType.RED_LIGHT_SPEED if _SPEED_WORD.search(text) else CameraType.RED_LIGHT), Kind.FIXED
    return None


def classify(name: str | None, fallback: str | None = "") -> NameInfo:
    """Camera type, kind and speed from a POI name such as ``max@130`` or ``Redlight@60``.

    ``@NN`` (optionally ``km/h`` or ``mph``) is the speed. Keywords, first match wins:
    mobile -> MOBILE_CAMERA (kind mobile); police / checkpoint -> POLICE_CHECK (mobile);
    average / section / moyenne -> SECTION_START (SECTION_END with end / fin / ende);
    tunnel -> TUNNEL; stop / red / redlight / feu -> RED_LIGHT (RED_LIGHT_SPEED with
    speed / vitesse); anything else -> SPEED. When ``name`` has neither a keyword nor a speed
    marker, ``fallback`` (e.g. the description) is classified instead.
    """
    name = (name or "").strip()
    found = _keyword_type(name)
    mark = _SPEED_MARK.search(name)
    if found is None and mark is None and fallback:
        found = _keyword_type(fallback)
        mark = _SPEED_MARK.search(fallback)
    type_, kind = found or (CameraType.SPEED, Kind.FIXED)
    speed, note = None, ""
    if mark:
        try:
            speed = parse_speed(mark.group(1))
        except ValueError:
            note = f"speed marker {mark.group(0)!r} ignored: not a speed within 5-300 km/h"
    return NameInfo(type_, kind, speed, found is not None or mark is not None, note)


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
