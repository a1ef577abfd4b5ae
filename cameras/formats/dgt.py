"""Spain's DGT radar sections (reader name ``dgt-xml``).

The DGT publishes road stretches where (mobile) radar checks happen:
``RAIZ/PROVINCIA(NOMBRE, CARRETERA(DENOMINACION, RADAR(PUNTO_INICIAL, PUNTO_FINAL, SENTIDO)))``
with ``PK`` (km post), ``LATITUD`` and ``LONGITUD`` in each point. The file has no XML
declaration, starts with comments and writes accents as numeric references (``&#241;``).

Each RADAR becomes one Record: kind MOBILE, type MOBILE_ZONE, position = start point,
``end_lat/end_lon`` = end point, road = DENOMINACION, description ``"<province> PK a-b"``,
country hint ES, heading = bearing start -> end (0.1°). ``SENTIDO`` ``Ambos`` (both ways) ->
dir_mode BOTH; ``Creciente``/``Decreciente`` (increasing/decreasing km posts) -> ONE,
pointing towards higher/lower PK. ``ref`` = ``"<province>/<road>/<pk start>-<pk end>"``;
a ref already used in the file gets ``#2``, ``#3``... appended (the 2018 file lists
Teruel N-223 PK 0.37-2.37 twice, once per orientation). ``Record.line`` is the RADAR's
1-based index in the file.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path
from typing import Iterator

from exporters.schema import CameraType, DirectionMode, Kind

from .base import FormatError, Reader, Record, Rejection, bearing, checked_point, head_text, register
from .xml_helpers import local, parse_xml, xml_root_name


def _text(el, name: str) -> str:
    child = el.find(name) if el is not None else None
    return " ".join((child.text or "").split()) if child is not None else ""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().strip()


def _km(text: str) -> float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@register
class DgtXmlReader(Reader):
    name = "dgt-xml"
    label = "Spain DGT radar sections XML (RAIZ/PROVINCIA/CARRETERA/RADAR)"
    extensions = (".xml",)

    def sniff(self, head: bytes, path: Path) -> int:
        if xml_root_name(head) != "RAIZ":
            return 0
        text = head_text(head)
        return 95 if "<PROVINCIA>" in text and ("<RADAR>" in text or "<CARRETERA>" in text) else 50

    def read(self, path: Path) -> Iterator[Record | Rejection]:
        path = Path(path)
        fname = path.name
        root = parse_xml(path)
        if local(root.tag) != "RAIZ":
            raise FormatError(f"{path}: not a DGT radar file (the root element is <{local(root.tag)}>, "
                              f"expected <RAIZ>)")
        line = 0
        used: dict[str, int] = {}
        for province_el in root.iter("PROVINCIA"):
            province = _text(province_el, "NOMBRE")
            for road_el in province_el.iter("CARRETERA"):
                road = _text(road_el, "DENOMINACION")
                for radar in road_el.iter("RADAR"):
                    line += 1
                    try:
                        rec = self._record(line, province, road, radar)
                    except ValueError as err:
                        yield Rejection(fname, line, str(err))
                        continue
                    base = rec.ref
                    if base in used:
                        n = used[base]
                        while f"{base}#{n}" in used:
                            n += 1
                        used[base] = n + 1
                        rec.ref = f"{base}#{n}"
                        rec.notes.append(f"ref {base!r} repeats an earlier section; made unique as {rec.ref!r}")
                    used[rec.ref] = 2
                    yield rec
        if line == 0:
            raise FormatError(f"{path}: no <RADAR> sections found; nothing to import")

    @staticmethod
    def _record(line: int, province: str, road: str, radar) -> Record:
        start_el, end_el = radar.find("PUNTO_INICIAL"), radar.find("PUNTO_FINAL")
        pk_a, pk_b = _text(start_el, "PK"), _text(end_el, "PK")
        where = f"{province or '?'} {road or '?'} PK {pk_a or '?'}-{pk_b or '?'}"
        if start_el is None or end_el is None:
            missing = "PUNTO_INICIAL" if start_el is None else "PUNTO_FINAL"
            raise ValueError(f"{where}: the section has no {missing}")
        try:
            lat, lon = checked_point(_text(start_el, "LATITUD"), _text(start_el, "LONGITUD"), "start")
            end_lat, end_lon = checked_point(_text(end_el, "LATITUD"), _text(end_el, "LONGITUD"), "end")
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        notes: list[str] = []
        heading = None
        if (lat, lon) != (end_lat, end_lon):
            heading = round(bearing(lat, lon, end_lat, end_lon), 1) % 360.0
        sense = _fold(_text(radar, "SENTIDO"))
        if heading is None:
            dir_mode = DirectionMode.ALL
            notes.append(f"start and end point are the same position although the km posts are "
                         f"{pk_a}-{pk_b}; direction left open")
        elif sense in {"ambos", "ambas", "doble", "both"}:
            dir_mode = DirectionMode.BOTH
        elif sense in {"creciente", "ascendente", "decreciente", "descendente"}:
            dir_mode = DirectionMode.ONE
            a, b = _km(pk_a), _km(pk_b)
            rising = sense in {"creciente", "ascendente"}
            if a is not None and b is not None and (b < a) == rising:
                heading = round(bearing(end_lat, end_lon, lat, lon), 1) % 360.0
        else:
            dir_mode = DirectionMode.ALL
            if sense:
                notes.append(f"SENTIDO {_text(radar, 'SENTIDO')!r} not understood; direction left open")
        return Record(
            line=line, lat=lat, lon=lon, type=CameraType.MOBILE_ZONE, kind=Kind.MOBILE,
            ref=f"{province}/{road}/{pk_a}-{pk_b}", heading=heading, dir_mode=dir_mode, road=road,
            description=f"{province} PK {pk_a}-{pk_b}", country="ES", end_lat=end_lat, end_lon=end_lon,
            notes=notes,
        )
