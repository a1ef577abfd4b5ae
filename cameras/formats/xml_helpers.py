"""XML helpers shared by the XML readers (GPX, KML, DGT, OSM); not a reader itself.

Parsing is safe: ``SafeXMLParser`` is defusedxml's ElementTree parser (entity declarations
and external entity references refused) that also refuses a DOCTYPE naming an external DTD.
``parse_xml`` reads a file with it (``xml_bytes`` re-encodes undeclared Windows-1252 text),
``xml_guard`` turns every refusal or syntax error into a ``FormatError`` naming the file,
``xml_root_name`` sniffs the first element of a file head without parsing it, and ``local``
strips a tag's namespace.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from xml.etree.ElementTree import ParseError, TreeBuilder
from xml.sax import SAXParseException

import defusedxml.ElementTree as SafeET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from .base import FormatError, decode, head_text


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
