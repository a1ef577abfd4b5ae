"""French government list of automatic radars (reader ``fr-radars``).

Columns (header row, ``,``): date_heure_dernier_changement, date_heure_creation, departement,
latitude, longitude, id, direction, equipement, date_installation, type, emplacement, route,
longueur_troncon_km, vitesse_vehicules_legers_kmh, vitesse_poids_lourds_kmh.

Type mapping:

=========================  ==============  ==========================================
``type``                   CameraType      notes
=========================  ==============  ==========================================
Radar fixe                 SPEED
Radar discriminant         SPEED           truck limit in vitesse_poids_lourds_kmh
Radar feu rouge            RED_LIGHT
Radar Vitesse Moyenne      SECTION         average-speed section; length in description
Itinéraire                 SECTION         route enforcement zone; roads in ``road``,
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
from pathlib import Path
from typing import Iterator

from exporters.schema import CameraType, Kind

from .base import FormatError, Reader, Record, Rejection, decode, register
from .native_csv import DESCRIPTION_MAX, ROAD_MAX, first_line, fit, header_fields, position, speed_value

TYPES = {
    "radar fixe": CameraType.SPEED,
    "radar discriminant": CameraType.SPEED,
    "radar feu rouge": CameraType.RED_LIGHT,
    "radar vitesse moyenne": CameraType.SECTION,
    "itinéraire": CameraType.SECTION,
    "radar passage à niveau": CameraType.LEVEL_CROSSING,
}
REQUIRED = ("latitude", "longitude", "id", "type")
OPTIONAL = ("direction", "emplacement", "route", "longueur_troncon_km",
            "vitesse_vehicules_legers_kmh", "vitesse_poids_lourds_kmh")


def clean(text: str) -> str:
    """Strip whitespace and one level of doubled quoting (``"VC ""X"""`` -> ``VC "X"``)."""
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
        return 0

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        with open(path, "rb") as fh:
            text, _ = decode(fh.read())
        # split on LF only (str.splitlines would also split on rare separators inside fields)
        lines = [line.rstrip("\r") for line in text.split("\n")]
        line_no, names = 0, None
        for line_no, line in enumerate(lines, 1):
            if line.strip():
                names = [c.strip().lower() for c in next(csv.reader([line]))]
                break
        missing = [c for c in REQUIRED if c not in (names or ())]
        if missing:
            raise FormatError(f"{path}: not a French radar list: header lacks {', '.join(missing)}")
        idx = {c: names.index(c) for c in REQUIRED + OPTIONAL if c in names}
        ncols = len(names)
        for number in range(line_no + 1, len(lines) + 1):
            line = lines[number - 1]
            if not line.strip():
                continue
            # one reader per physical line: a stray quote cannot run into the next line
            fields = next(csv.reader([line]))
            if len(fields) != ncols:
                yield Rejection(fname, number, f"expected {ncols} fields as in the header, got {len(fields)} "
                                               f"(broken quoting?)")
                continue
            try:
                yield self._record(fields, number, idx)
            except ValueError as err:
                yield Rejection(fname, number, str(err))

    @staticmethod
    def _record(fields: list[str], number: int, idx: dict[str, int]) -> Record:
        def get(col):
            i = idx.get(col)
            return fields[i].strip() if i is not None else ""

        lat, lon = position(get("latitude"), get("longitude"))
        ref = get("id")
        if not ref:
            raise ValueError("id is empty")
        notes: list[str] = []
        type_text = clean(get("type"))
        type_ = TYPES.get(type_text.lower())
        if type_ is None:
            type_ = CameraType.OTHER
            notes.append(f"unknown radar type {type_text!r} read as OTHER")

        place, road, direction = get("emplacement"), get("route"), clean(get("direction"))
        if road.startswith('"') and not road.endswith('"') and place.endswith('"'):
            # upstream quoting slip: the road list sits in emplacement, route holds e.g. '"300'
            notes.append(f"broken quoting repaired: road taken from emplacement {place!r}, "
                         f"route value {road!r} dropped")
            road, place = place.rstrip('"').strip(), ""
        place, road = clean(place), clean(road)
        if place == "-":
            place = ""
        if road == "-":
            road = ""

        speed = speed_value(get("vitesse_vehicules_legers_kmh"), "vitesse_vehicules_legers_kmh")
        truck_speed = speed_value(get("vitesse_poids_lourds_kmh"), "vitesse_poids_lourds_kmh")
        length_text = get("longueur_troncon_km").replace(",", ".")
        length = None
        if length_text:
            try:
                length = float(length_text)
            except ValueError:
                raise ValueError(f"longueur_troncon_km {length_text!r} is not a number") from None

        parts = [type_text]
        if type_text.lower() == "itinéraire":
            parts[0] = "Itinéraire (route enforcement zone: speed checks along the listed roads)"
        elif type_text.lower() == "radar vitesse moyenne":
            parts[0] = "Radar Vitesse Moyenne (average-speed section)"
        if length is not None:
            parts.append(f"{length:g} km")
        if direction in {"", "[]", "-"}:
            pass
        elif _is_coordinate_pair(direction):
            notes.append(f"direction held a coordinate pair {direction!r}, not a direction; ignored")
        elif direction.upper() == "DOUBLE SENS":
            parts.append("both directions (DOUBLE SENS)")
        elif " vers " in direction.lower():
            parts.append(direction)
        else:
            parts.append(f"direction: {direction}")
        if place:
            parts.append(place)

        return Record(
            line=number, lat=lat, lon=lon, type=type_, kind=Kind.FIXED, ref=ref,
            speed=speed, truck_speed=truck_speed,
            road=fit(road, ROAD_MAX, "road", notes),
            description=fit("; ".join(parts), DESCRIPTION_MAX, "description", notes),
            country="FR", notes=notes,
        )
