"""French government list of automatic radars (reader ``fr-radars``).

Columns (header row, ``,``): date_heure_dernier_changement, date_heure_creation, departement,
latitude, longitude, id, direction, equipement, date_installation, type, emplacement, route,
longueur_troncon_km, vitesse_vehicules_legers_kmh, vitesse_poids_lourds_kmh.

A copy without its header row is recognised by its rows (15 fields, two ISO dates, a
département code, two coordinates, a known radar type in the 10th field). The releases order
the two limits differently (2018: lorry limit, then car limit; 2023: car, then lorry); the
rows tell which: a row that gives one limit gives the car limit, and where both are given
the lorry limit is the lower. Without such rows the 2018 order is assumed. A file note says
which order was read and why.

Type mapping:

=========================  ==============  ==========================================
``type``                   CameraType      notes
=========================  ==============  ==========================================
Radar fixe                 SPEED
Radar discriminant         SPEED           truck limit in vitesse_poids_lourds_kmh
Radar feu rouge            RED_LIGHT
Radar Vitesse Moyenne      SECTION         average-speed section; length in description
Itinéraire                 ROUTE_ENFORCEMENT  a radar car checking speeds along a route; roads in ``road``,
                                           length in description
Radar Passage à Niveau     LEVEL_CROSSING
anything else              OTHER           original type kept in description, noted
=========================  ==============  ==========================================

``direction`` is free text ("X vers Y", "DOUBLE SENS", "INTERIEUR"...) with no numeric heading,
so it goes into the description and ``dir_mode`` stays ALL. Every row gets the country hint
FR (overseas départements are part of France).

Broken quoting upstream: in some ``Itinéraire`` rows the road list slid into ``emplacement``
with a stray trailing ``"`` and ``route`` holds ``"300``; ``direction`` holds a coordinate
pair hundreds of km away (not the section end). Such rows are repaired (road taken from
``emplacement``, the stray values dropped and noted). The file is parsed one physical line
at a time, so an unbalanced quote can never swallow the lines after it.
"""

from __future__ import annotations

import csv
import re
from operator import itemgetter
from pathlib import Path
from typing import Iterator

from exporters.schema import CameraType, DirectionMode, Kind

from .base import (
    DESCRIPTION_MAX,
    ROAD_MAX,
    FormatError,
    Reader,
    Record,
    Rejection,
    first_line,
    decode,
    file_note,
    fit,
    header_fields,
    position,
    read_text,
    register,
    speed_value,
)

TYPES = {
    "radar fixe": CameraType.SPEED,
    "radar discriminant": CameraType.SPEED,
    "radar feu rouge": CameraType.RED_LIGHT,
    "radar vitesse moyenne": CameraType.SECTION,
    "itinéraire": CameraType.ROUTE_ENFORCEMENT,
    "radar passage à niveau": CameraType.LEVEL_CROSSING,
}
REQUIRED = ("latitude", "longitude", "id", "type")
# the columns read, in the order _record unpacks them
USED = REQUIRED + ("direction", "emplacement", "route", "longueur_troncon_km",
                   "vitesse_vehicules_legers_kmh", "vitesse_poids_lourds_kmh")
LABELS = {
    "itinéraire": "Itinéraire (route enforcement zone: speed checks along the listed roads)",
    "radar vitesse moyenne": "Radar Vitesse Moyenne (average-speed section)",
}
FIXED, ALL = Kind.FIXED, DirectionMode.ALL

# The columns of a copy without header, by release (they differ in the order of the limits).
COLUMNS_2023 = ["date_heure_dernier_changement", "date_heure_creation", "departement", "latitude", "longitude",
                "id", "direction", "equipement", "date_installation", "type", "emplacement", "route",
                "longueur_troncon_km", "vitesse_vehicules_legers_kmh", "vitesse_poids_lourds_kmh"]
COLUMNS_2018 = COLUMNS_2023[:13] + ["vitesse_poids_lourds_kmh", "vitesse_vehicules_legers_kmh"]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_DEPARTEMENT = re.compile(r"^(?:0?[1-9]|[1-8]\d|9[0-5]|2[ab]|97[1-8]|98[6-8])$", re.I)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def headerless_row(fields: list[str]) -> bool:
    """Whether ``fields`` is a data row of the list (as the first line of a copy without header)."""
    return (len(fields) == 15 and bool(_ISO_DATE.match(fields[0].strip())) and bool(_ISO_DATE.match(fields[1].strip()))
            and bool(_DEPARTEMENT.match(fields[2].strip())) and _number(fields[3]) and _number(fields[4])
            and clean(fields[9]).lower() in TYPES)


def limit_order(rows) -> tuple[list[str], str]:
    """The column names of a copy without header and why, from its last two fields (the limits).

    A row with one limit gives the car limit; where both are given the lorry limit is the lower.
    """
    car_first = lorry_first = 0
    for fields in rows:
        if len(fields) != 15:
            continue
        a, b = fields[13].strip(), fields[14].strip()
        if bool(a) != bool(b):
            car_first += bool(a)
            lorry_first += bool(b)
        elif a and b and _number(a) and _number(b) and float(a) != float(b):
            car_first += float(a) > float(b)
            lorry_first += float(a) < float(b)
    if car_first > lorry_first:
        return COLUMNS_2023, (f"car limit before lorry limit, as in the 2023 release ({car_first} row(s) "
                              f"say so, {lorry_first} the other way)")
    if lorry_first:
        return COLUMNS_2018, (f"lorry limit before car limit, as in the 2018 release ({lorry_first} row(s) "
                              f"say so, {car_first} the other way)")
    return COLUMNS_2018, "lorry limit before car limit, as in the 2018 release (no row tells the order)"


def clean(text: str) -> str:
    """Strip whitespace and one level of doubled quoting: ``"VC ""X"" (Y)"`` -> ``VC "X" (Y)``."""
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].replace('""', '"').strip()
    return text


def _is_coordinate_pair(text: str) -> bool:
    parts = text.split(",")
    if len(parts) != 2:
        return False
    try:
        float(parts[0]), float(parts[1])
    except ValueError:
        return False
    return True


@register
class FrRadarsReader(Reader):
    name = "fr-radars"
    label = "France: radars automatiques (securite-routiere.gouv.fr / data.gouv.fr CSV)"
    extensions = (".csv",)

    def sniff(self, head: bytes, path: Path) -> int:
        cols = set(header_fields(first_line(head)))
        if "equipement" in cols and "vitesse_vehicules_legers_kmh" in cols:
            return 95
        if {"latitude", "longitude", "emplacement", "vitesse_poids_lourds_kmh"} <= cols:
            return 70
        text, _ = decode(head, detect=False)
        lines = [line for line in text.splitlines()[:20] if line.strip()]
        if len(head) >= 65536 and len(lines) > 1:
            lines = lines[:-1]  # the last line of a cut head may be partial
        if lines and headerless_row(next(csv.reader(lines[:1]))):
            rows = list(csv.reader(lines))
            return 90 if sum(map(headerless_row, rows)) * 2 > len(rows) else 0
        return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        text, _ = read_text(path)
        # split on LF only (str.splitlines would also split on rare separators inside fields)
        # (a CR inside a line is no line end here: a space, or the csv module would stop on it)
        lines = [line.rstrip("\r").replace("\r", " ") for line in text.split("\n")]
        header_no, names, first = 0, None, []
        for header_no, line in enumerate(lines, 1):
            if line.strip():
                first = next(csv.reader([line]))
                names = [c.strip().lower() for c in first]
                break
        if headerless_row(first):  # a copy without its header row
            header_no -= 1
            names, why = limit_order(csv.reader(lines[header_no:]))
            file_note(f"no header row: the columns were read in the order of the Ministry's list, {why}")
        missing = [c for c in REQUIRED if c not in (names or ())]
        if missing:
            raise FormatError(f"{path}: not a French radar list: header lacks {', '.join(missing)}")
        ncols = len(names)
        # a missing optional column reads the empty field appended to every row
        pick = itemgetter(*(names.index(c) if c in names else ncols for c in USED))
        caches = ({}, {}, {})  # type text, car speed, truck speed -> parsed value
        for number, fields in self._rows(lines, header_no):
            if len(fields) != ncols:
                if not any(f.strip() for f in fields):
                    continue
                yield Rejection(fname, number, f"expected {ncols} fields as in the header, got {len(fields)} "
                                               f"(broken quoting?)")
                continue
            fields.append("")
            try:
                yield self._record(pick(fields), number, caches)
            except ValueError as err:
                yield Rejection(fname, number, str(err))

    @staticmethod
    def _rows(lines: list[str], header_no: int):
        """(line number, fields) per physical line after the header.

        Parsed in one pass; a row that spans several lines (an unbalanced quote swallowed the
        line break) is re-parsed one physical line at a time, so no row is lost to it.
        """
        body = lines[header_no:]
        rows = csv.reader(body)
        prev = 0
        for fields in rows:
            cur = rows.line_num
            if cur - prev == 1:
                yield header_no + cur, fields
            else:
                for k in range(prev + 1, cur + 1):
                    yield header_no + k, next(csv.reader([body[k - 1]]), [])
            prev = cur

    @staticmethod
    def _record(values: tuple, number: int, caches: tuple) -> Record:
        lat_text, lon_text, ref, type_text, direction, place, road, length_text, car, truck = values
        lat, lon = position(lat_text, lon_text)
        ref = ref.strip()
        if not ref:
            raise ValueError("id is empty")
        types, car_speeds, truck_speeds = caches
        notes: list[str] = []
        try:
            type_, label, note = types[type_text]
        except KeyError:
            original = clean(type_text)
            type_ = TYPES.get(original.lower())
            label, note = LABELS.get(original.lower(), original), None
            if type_ is None:
                type_, note = CameraType.OTHER, f"unknown radar type {original!r} read as OTHER"
            types[type_text] = type_, label, note
        if note:
            notes.append(note)

        place, road = place.strip(), road.strip()
        if road.startswith('"') and not road.endswith('"') and place.endswith('"'):
            # upstream quoting slip: the road list sits in emplacement, route holds e.g. '"300'
            notes.append(f"broken quoting repaired: road taken from emplacement {place!r}, "
                         f"route value {road!r} dropped")
            road, place = place.rstrip('"').strip(), ""
        if '"' in place:
            place = clean(place)
        if '"' in road:
            road = clean(road)
        if place == "-":
            place = ""
        if road == "-":
            road = ""

        try:
            speed = car_speeds[car]
        except KeyError:
            speed = car_speeds[car] = speed_value(car, "vitesse_vehicules_legers_kmh")
        try:
            truck_speed = truck_speeds[truck]
        except KeyError:
            truck_speed = truck_speeds[truck] = speed_value(truck, "vitesse_poids_lourds_kmh")

        parts = [label]
        length_text = length_text.strip()
        if length_text:
            try:
                parts.append(f"{float(length_text.replace(',', '.')):g} km")
            except ValueError:
                raise ValueError(f"longueur_troncon_km {length_text!r} is not a number") from None
        direction = direction.strip()
        if direction in ("", "[]", "-"):
            pass
        elif " vers " in direction or " VERS " in direction or " vers " in direction.lower():
            parts.append(clean(direction))
        elif direction.upper() == "DOUBLE SENS":
            parts.append("both directions (DOUBLE SENS)")
        elif _is_coordinate_pair(direction):
            notes.append(f"direction held a coordinate pair {direction!r}, not a direction; ignored")
        else:
            parts.append(f"direction: {clean(direction)}")
        if place:
            parts.append(place)
        description = "; ".join(parts)
        if len(description) > DESCRIPTION_MAX:
            description = fit(description, DESCRIPTION_MAX, "description", notes)
        if len(road) > ROAD_MAX:
            road = fit(road, ROAD_MAX, "road", notes)
        return Record(number, lat, lon, type_, FIXED, ref, speed, truck_speed, None, ALL, road,
                      description, "FR", notes=notes)
