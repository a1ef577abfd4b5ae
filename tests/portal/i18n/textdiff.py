"""What a page, an email or a file says, as text segments, to find English left in a
translation: a segment (a text node, or a label in an attribute) that reads the same in
English and in another language, and that is a sentence (three words or more), was not
translated."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from django.conf import settings

from cameras import regions
from exporters.devices import CATALOG

LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]
WORD = re.compile(r"[^\W\d_]{2,}")
# a file name or path the package holds ("tomtom/Speed_cameras_50.ov2", "Mobile cameras.gpx")
FILE_NAME = re.compile(r"^[\w .<>/-]+\.(?:kml|kmz|gpx|csv|gpi|ov2|txt|dat|json|bmp|zip|png|pdf)$", re.I)
EDGES = "()[]{}:;,. \u00a0"
ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}

# Names, not sentences: the same in every language
NAMES = {"SpeedCam Files", "OpenStreetMap", "Stripe", "TomTom MyDrive", "Garmin POI Loader", "Garmin Express",
         # the map tiles' attribution, as OpenStreetMap asks for it
         "© OpenStreetMap contributors", "&copy; OpenStreetMap contributors"}


def names() -> set[str]:
    from cameras.legal import NOTES

    found = set(NAMES)
    # the seller's own particulars (settings), the same in every language
    found |= {normal(str(getattr(settings, name))) for name in dir(settings)
              if name.startswith("SELLER_") and getattr(settings, name)}
    # the laws' own names ("Strassenverkehrsgesetz (SVG) Art. 98a"), cited as they are
    found |= {note.law for note in NOTES.values()}
    # a country some languages name as English does ("Isle of Man" in Dutch)
    found |= set(regions.country_names().values())
    for device in CATALOG.values():
        found |= {device.name, device.model, device.brand}
    return found


class _Segments(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0
        self._json = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
            self._json = tag == "script" and attrs.get("type") == "application/json"
        for name in ATTRIBUTES:
            if attrs.get(name):
                self.found.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.found.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
            self._json = False

    def handle_data(self, data):
        if self._skip and self._json:
            try:
                self.found.extend(_strings(json.loads(data)))
            except ValueError:
                pass
        elif not self._skip:
            self.found.append(data)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def normal(text: str) -> str:
    return " ".join(text.split())


def sentences(segments) -> set[str]:
    """The segments that are sentences (three words or more), each normalised."""
    proper = names()
    out = set()
    for segment in segments:
        segment = normal(segment)
        tokens = [token for token in segment.split() if WORD.search(token)]
        if len(WORD.findall(segment)) < 3 or len(tokens) < 3 or segment in proper or segment.strip(EDGES) in proper:
            continue
        if segment.startswith(("http://", "https://")) or FILE_NAME.match(segment):
            continue
        if "@" in segment and len(segment.split()) == 1:  # an email address
            continue
        out.add(segment)
    return out


def html_segments(html: str) -> set[str]:
    parser = _Segments()
    parser.feed(html)
    return sentences(parser.found)


def text_segments(text: str) -> set[str]:
    """A plain text (an email, INSTALL.txt): each line."""
    return sentences(line for line in text.splitlines() if not line.strip().startswith(("http://", "https://")))


def untranslated(english: set[str], other: set[str]) -> list[str]:
    """The sentences the other language shows exactly as English does."""
    return sorted(english & other)
