"""What a page, an email or a file says, as text segments, to find English left in a
translation: a segment (a text node, or a label in an attribute) that reads the same in
English and in another language, and that is a sentence (three words or more), was not
translated."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from django.conf import settings

from exporters.devices import CATALOG

LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]
WORD = re.compile(r"[^\W\d_]{2,}")
ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}

# Names, not sentences: the same in every language
NAMES = {"SpeedCam Files", "OpenStreetMap", "Stripe", "TomTom MyDrive", "Garmin POI Loader", "Garmin Express"}


def names() -> set[str]:
    found = set(NAMES)
    # the seller's own particulars (settings), the same in every language
    found |= {str(value) for name, value in vars(settings._wrapped).items() if name.startswith("SELLER_") and value}
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
        if len(WORD.findall(segment)) < 3 or segment in proper:
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
