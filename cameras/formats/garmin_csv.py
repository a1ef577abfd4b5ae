"""Garmin POI Loader CSV (reader ``garmin-csv``): ``lon,lat,"name","comment"``, no header.

Layout: docs/formats/garmin-poi-loader-csv.md. The POI name carries the alert speed after
``@`` (``Fixed camera@50``, lufop ``max @50``); ``text_helpers.classify_name`` turns a name into
(type, kind, speed) and is shared with the OV2 reader:

==============================================  ===============================
name contains (whole words, case-insensitive)   type / kind
==============================================  ===============================
starts ``max =`` or ``max !``                   SECTION: vertices of French
                                                multi-point route zones
                                                (lufop "Itinéraire")
``mobile``                                      MOBILE_CAMERA, kind MOBILE
``stop``, ``red``, ``redlight``, ``feu rouge``  RED_LIGHT (RED_LIGHT_SPEED when
                                                ``speed`` is in the name too)
``average``, ``avg``, ``section``, ``moyenne``  SECTION_START (SECTION_END with
                                                ``end``/``fin``); lufop ``average``
                                                points do not say start or end
``tunnel``                                      TUNNEL
anything else (``max``, ``Fixed camera``)       SPEED
==============================================  ===============================

The lufop comment ``CC Radar Fixe CC NN`` gives the country hint CC (and a speed NN, used
only when the name has none: the name's speed wins when they disagree). The comment becomes
the description (the name when there is no comment). The format has no ids: ``ref`` is ""
and the importer keys records by position. Rows with latitude and longitude swapped are read
as they are (lon, lat); the importer fixes them against the country polygons.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from exporters.schema import DirectionMode

from .base import (
    DESCRIPTION_MAX,
    Reader,
    Record,
    Rejection,
    csv_rows,
    decode,
    fit,
    position,
    read_text,
    register,
    speed_value,
)
from .text_helpers import classify_name

ALL = DirectionMode.ALL


@lru_cache(maxsize=4096)
def lufop_comment(comment: str) -> tuple[str, int | None]:
    """``"DE Radar Fixe DE 60"`` -> ("DE", 60); other comments -> ("", None)."""
    if len(comment) < 9 or comment[2] != " " or not comment.startswith("Radar ", 3):
        return "", None
    country = comment[:2]
    if not (country.isascii() and country.isalpha() and country.isupper()):
        return "", None
    last = comment.rsplit(None, 1)[-1]
    speed = None
    if last.isdigit():
        try:
            speed = speed_value(last)
        except ValueError:
            speed = None
    return country, speed


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@register
class GarminCsvReader(Reader):
    name = "garmin-csv"
    label = "Garmin POI Loader CSV (lon,lat,\"name\",\"comment\"; speed as name@NN)"
    extensions = (".csv",)

    def sniff(self, head: bytes, path: Path) -> int:
        text, _ = decode(head)
        lines = [line for line in text.splitlines()[:20] if line.strip()]
        if len(head) >= 65536 and len(lines) > 1:
            lines = lines[:-1]  # the last line of a cut head may be partial
        if not lines:
            return 0
        try:
            rows = list(csv.reader(lines))
        except csv.Error:
            return 0
        for fields in rows:  # every line: number,number,text[,text]
            if not 3 <= len(fields) <= 5:
                return 0
            if not (_is_number(fields[0]) and _is_number(fields[1])) or _is_number(fields[2]):
                return 0
        quoted = lines[0].split(",", 2)[2].lstrip().startswith('"')
        return 80 if quoted else 55

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        text, _ = read_text(path)
        lufop = lufop_comment
        classify = classify_name
        physical: list[str] = []  # the file's lines, split only if a row needs recovering
        for line_no, fields, problem in csv_rows(text):  # one row per line: a stray quote costs one row
            if problem:
                yield Rejection(fname, line_no, problem)
                continue
            n = len(fields)
            notes = None
            if n != 4:
                if n == 0 or not any(f.strip() for f in fields):
                    continue
                if n == 3:
                    fields.append("")
                elif n > 4:
                    if not physical:
                        physical = io.StringIO(text, newline="").readlines()
                    fields, notes = self._recover(physical[line_no - 1:line_no], fields)
                else:
                    yield Rejection(fname, line_no, f"expected 4 fields (lon,lat,\"name\",\"comment\"), got {n}: "
                                                    f"{','.join(fields)[:80]!r}")
                    continue
            lon_text, lat_text, name, comment = fields
            try:
                lat, lon = position(lat_text, lon_text)
                type_, kind, speed = classify(name)
            except ValueError as err:
                yield Rejection(fname, line_no, str(err))
                continue
            comment = comment.strip()
            country = ""
            if comment:
                country, comment_speed = lufop(comment)
                if speed is None:
                    speed = comment_speed
                description = comment
            else:
                description = name.strip()
            if notes is None:
                notes = []
            if len(description) > DESCRIPTION_MAX:
                description = fit(description, DESCRIPTION_MAX, "description", notes)
            yield Record(line_no, lat, lon, type_, kind, "", speed, None, None, ALL, "",
                         description, country, notes=notes)

    @staticmethod
    def _recover(lines: list[str], fields: list[str]) -> tuple[list[str], list[str]]:
        """A row with more than 4 fields: badly escaped quotes (``\\"``) or a stray comma.

        Re-read the line treating backslash as an escape; if that still gives too many fields,
        merge everything after the name into the comment.
        """
        source = "".join(lines).rstrip("\r\n")
        try:
            again = next(csv.reader([source], escapechar="\\"), [])
        except csv.Error:
            again = []
        if len(again) == 4:
            return again, ["comment had backslash-escaped quotes; re-read with \\ as escape"]
        return fields[:3] + [",".join(fields[3:])], [f"{len(fields)} fields: extra fields merged into the comment"]
