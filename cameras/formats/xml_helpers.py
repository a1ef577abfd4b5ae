"""XML helpers shared by the XML readers (GPX, KML, DGT, OSM); not a reader itself.

Parsing is safe: ``SafeXMLParser`` is defusedxml's ElementTree parser (entity declarations
and external entity references refused) that also refuses a DOCTYPE naming an external DTD.
``parse_xml`` reads a file with it (``xml_bytes`` re-encodes text that is not the UTF-8 it
declares or implies, in the encoding ``base.decode`` detects, with a note; ``check_depth``
refuses elements nested deeper than ``MAX_DEPTH`` before any tree is built: deep trees
crash the libraries that walk them recursively),
``xml_guard`` turns every refusal or syntax error into a ``FormatError`` naming the file,
``xml_root_name`` sniffs the first element of a file head without parsing it, and ``local``
strips a tag's namespace.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from contextlib import contextmanager
from pathlib import Path
from xml.etree.ElementTree import ParseError, TreeBuilder
from xml.sax import SAXParseException

import defusedxml.ElementTree as SafeET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from .base import FormatError, decode, detect_encoding, file_note, head_text


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


_ENCODING_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]*)[\"']", re.I)
# Element nesting a feed may have (a GPX waypoint is 3 deep, KML folders a few more).
MAX_DEPTH = 200


def xml_bytes(path: Path) -> bytes:
    """The file's bytes, as UTF-8 when they are not the UTF-8 they declare (or imply).

    A file without a declaration that is not UTF-8 (common in hand-made feeds), or one that
    declares UTF-8 but is written in Latin-1 or another legacy encoding, is decoded in the
    encoding ``base.decode`` detects (noted), and its declaration says UTF-8 again: expat
    would otherwise stop at the first accented letter and the whole file would be refused.
    A file declaring another encoding is left to expat.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data
    declared = _ENCODING_DECL.match(data)
    name = declared.group(1).decode("ascii").lower().replace("_", "-") if declared else ""
    if name and name not in ("utf-8", "utf8"):
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError as err:
        bad_line = data.count(b"\n", 0, err.start) + 1
    if not declared:
        return decode(data)[0].encode("utf-8")  # notes the encoding it detects
    encoding = detect_encoding(data)
    file_note(f"the XML declares {declared.group(1).decode('ascii')} but is not (first non-UTF-8 byte on line "
              f"{bad_line}); read as {encoding}, the most plausible encoding; save it as UTF-8 to be sure", bad_line)
    text = re.sub(r"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[A-Za-z0-9._-]*", r"\g<1>UTF-8",
                  data.decode(encoding, errors="replace"), count=1)
    return text.encode("utf-8")


class _TooDeep(Exception):
    pass


def check_depth(data: bytes, path: Path, limit: int = MAX_DEPTH) -> None:
    """FormatError when elements nest deeper than ``limit``; a streaming count (expat, no tree).

    Entity declarations stop the count (the safe parse refuses them with its own message);
    syntax errors are left to the parse too.
    """
    parser = xml.parsers.expat.ParserCreate()
    depth = 0

    def start(name, attrs):
        nonlocal depth
        depth += 1
        if depth > limit:
            raise _TooDeep(parser.CurrentLineNumber)

    def end(name):
        nonlocal depth
        depth -= 1

    def refuse(*args):
        raise xml.parsers.expat.ExpatError("entities")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.EntityDeclHandler = parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(data, True)
    except _TooDeep as err:
        raise FormatError(
            f"{path}:{err.args[0]}: refused: elements nested more than {limit} deep (no feed needs that; "
            f"the file is broken or crafted)") from None
    except (xml.parsers.expat.ExpatError, ValueError, LookupError):
        return


def parse_xml(path: Path):
    """The root element of ``path`` parsed with defusedxml; FormatError on unsafe/bad XML."""
    data = xml_bytes(path)
    if not data.strip():
        raise FormatError(f"{path}: the file is empty; nothing to import")
    check_depth(data, path)
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
