"""Garmin POI Loader CSV (reader ``garmin-csv``): ``lon,lat,"name","comment"``, no header.

Layout: docs/formats/garmin-poi-loader-csv.md. The POI name carries the alert speed after
``@`` (``Fixed camera@50``, lufop ``max @50``); ``text_helpers.classify_poi`` turns a name into
type, kind and speed, with the multilingual words of ``keywords.keyword_type``, and is
shared with the OV2 reader:

==============================================  ===============================
name                                            type / kind
==============================================  ===============================
starts ``max =`` or ``max !``                   SECTION: vertices of French
                                                multi-point route zones
                                                (lufop "Itinéraire")
``mobile``, ``mobiler``, ``móvil``...           MOBILE_CAMERA, kind MOBILE
``stop``, ``red light``, ``feu rouge``,         RED_LIGHT (RED_LIGHT_SPEED when
``Rotlicht``, ``semaforo``, ``roodlicht``       a speed word is in the name too)
``average``, ``section``, ``tronçon``,          SECTION_START (SECTION_END with
``Abschnitt``, ``tutor``, ``trajectcontrole``   ``end``/``fin``/``Ende``); lufop
                                                ``average`` points do not say
                                                start or end
``tunnel`` (the camera's word, not a street)    TUNNEL
bus lane, level crossing, police check          BUS_LANE, LEVEL_CROSSING,
                                                POLICE_CHECK
a speed or a speed word (``max``, ``Fixed       SPEED
camera``, ``Radar``, ``Blitzer``, ``@50``)
no type word and no speed (``Camera E001``)     what the comment says (same
                                                rules), else the file's type
==============================================  ===============================

The file's type (``text_helpers.settle_types``) is the mapping's ``[defaults] type``, else
the type the file name says (``speed_cameras.csv``), else OTHER; a file note says which.

Speeds: ``@50``, ``@30 mph``, ``max 130`` (a keyword-led name ending in a number), or a
number with its unit in the name (``30 mph``). Numbers without a unit follow
``--speed-unit`` (``auto``: mph when most POIs lie in mph countries). The lufop comment
``CC Radar Fixe CC NN`` gives the country hint CC (and a speed NN, used only when the name
has none: the name's speed wins when they disagree).

Names are kept: a name that says more than a type and a speed ("Blitzer München@50") goes
before the comment in the description ("Blitzer München: Leopoldstraße"); a name alone is
the description as written. The project's own export ("Speed Rue de Rivoli@50" with the
comment "Paris centre, Rue de Rivoli") gives back road "Rue de Rivoli", description "Paris
centre", its type, and speeds in km/h: its ``@NN`` are in the package's one unit, km/h or
mph, which ``options.export_unit`` tells from the numbers and positions. The format has no ids: ``ref`` is "" and the importer
keys records by position. Rows with latitude and longitude swapped are read as they are
(lon, lat); the importer fixes them against the country polygons.
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
    ROAD_MAX,
    Reader,
    Record,
    Rejection,
    csv_rows,
    decode,
    fit,
    position,
    read_text,
    register,
)
from .text_helpers import (
    TextSpeed,
    classify_poi,
    export_name,
    join_texts,
    says_more,
    settle_speeds,
    settle_types,
    text_speed,
)

ALL = DirectionMode.ALL


@lru_cache(maxsize=4096)
def lufop_comment(comment: str) -> tuple[str, TextSpeed | None]:
    """``"DE Radar Fixe DE 60"`` -> ("DE", 60 as written); other comments -> ("", None)."""
    if len(comment) < 9 or comment[2] != " " or not comment.startswith("Radar ", 3):
        return "", None
    country = comment[:2]
    if not (country.isascii() and country.isalpha() and country.isupper()):
        return "", None
    last = comment.rsplit(None, 1)[-1]
    speed = None
    if last.isdigit():
        speed = TextSpeed(float(last), "", last)
        try:
            speed.kmh()
        except ValueError:
            speed = None
    return country, speed


def own_row(name: str, comment: str):
    """``export_name`` of a row the project's Garmin export wrote ("Speed A7@50" with the
    comment "description, A7"), else None."""
    found = export_name(name, "@")
    if found is None or (found.road and comment != found.road and not comment.endswith(", " + found.road)):
        return None
    return found


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
        classify = classify_poi  # a local name in the row loop
        physical: list[str] = []  # the file's lines, split only if a row needs recovering
        items: list[Record | Rejection] = []
        records: list[Record] = []
        speeds: list[TextSpeed | None] = []
        names: list[str] = []
        comments: list[str] = []
        positions: list[int] = []  # index of each record in items
        untyped: list[Record] = []  # records whose name and comment say no type
        own = True
        for line_no, fields, problem in csv_rows(text):  # one row per line: a stray quote costs one row
            if problem:
                items.append(Rejection(fname, line_no, problem))
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
                    items.append(Rejection(fname, line_no, f"expected 4 fields (lon,lat,\"name\",\"comment\"), "
                                                           f"got {n}: {','.join(fields)[:80]!r}"))
                    continue
            lon_text, lat_text, name, comment = fields
            try:
                lat, lon = position(lat_text, lon_text)
                found = classify(name)
            except ValueError as err:
                items.append(Rejection(fname, line_no, str(err)))
                continue
            name = name.strip()
            comment = comment.strip()
            speed = found.text
            country = road = ""
            if comment:
                country, comment_speed = lufop(comment)
                if speed is None:
                    speed = comment_speed if comment_speed is not None else text_speed(comment)[0]
            own = own and own_row(name, comment) is not None
            if not comment:
                description = name
            elif says_more(name):
                description = join_texts(name.rpartition("@")[0].strip() if "@" in name else name, comment)
            else:
                description = comment
            if notes is None:
                notes = []
            rec = Record(line_no, lat, lon, found.type, found.kind, "", None, None, None, ALL, road,
                         description, country, notes=notes)
            if not found.typed:
                said = classify(comment) if comment else None
                if said is not None and said.typed:
                    rec.type, rec.kind = said.type, said.kind
                else:
                    untyped.append(rec)
            positions.append(len(items))
            items.append(rec)
            records.append(rec)
            speeds.append(speed)
            names.append(name)
            comments.append(comment)
        own = own and bool(records)
        if own:  # the project's own export: the label is the type, the name's rest the road
            for rec, name, comment in zip(records, names, comments):
                found = export_name(name, "@")
                rec.type, rec.kind, rec.road = found.type, found.kind, found.road
                if found.road:
                    comment = "" if comment == found.road else comment.removesuffix(", " + found.road)
                rec.description = comment
        else:
            settle_types(untyped, path)
        dropped = dict(settle_speeds(records, speeds, own=own))
        for i, rec in enumerate(records):
            if len(rec.description) > DESCRIPTION_MAX:
                rec.description = fit(rec.description, DESCRIPTION_MAX, "description", rec.notes)
            if len(rec.road) > ROAD_MAX:
                rec.road = fit(rec.road, ROAD_MAX, "road", rec.notes)
            if i in dropped:
                items[positions[i]] = Rejection(fname, rec.line, f"{dropped[i]} (name {names[i]!r})")
        yield from items

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
