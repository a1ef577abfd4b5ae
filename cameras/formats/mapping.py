"""Column mappings of the tabular reader (``table``); documented in docs/feed-table.md.

Not a reader: it registers nothing. A ``Mapping`` says which column of a camera list holds
which field (``lat``, ``lon``, ``wkt``, ``speed``, ``heading``, ``type``, ``name``,
``description``, ``road``, ``country``, ``id``), the speed unit, and a type table (exact
values and regular expressions -> camera type). ``infer`` builds one from header names in
several languages; ``load`` reads one written down in TOML (or YAML when PyYAML is
installed); ``to_dict`` / ``from_dict`` store it on the source so re-imports use it.
Plain Python, no Django.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from exporters.schema import CameraType

from .base import FormatError

try:  # optional: a mapping file may be YAML when PyYAML is installed
    import yaml
except ImportError:  # pragma: no cover - depends on the environment
    yaml = None


FIELDS = ("lat", "lon", "wkt", "speed", "heading", "type", "name", "description", "road", "country", "id")
SPEED_UNITS = ("kmh", "mph", "auto")


# Letters Unicode does not decompose into a base letter and an accent ('Długość' -> 'dlugosc').
_UNDECOMPOSED = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe",
                               "ð": "d", "þ": "th"})


def normalize(name) -> str:
    """A header name without case, accents, spaces or punctuation: 'Compass Direction' -> 'compassdirection'."""
    text = unicodedata.normalize("NFKD", str(name).casefold().translate(_UNDECOMPOSED))
    return "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))


def _names(*names: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalize(n) for n in names))


# Header names per field, most specific first; compared after ``normalize``.
ALIASES: dict[str, tuple[str, ...]] = {
    "lat": _names("lat", "latitude", "y", "breite", "breitengrad", "широта", "latitud", "latitudine",
                  "latitudes", "geo_lat", "lat_wgs84", "wgs84_lat", "point_y", "y_coord", "ycoord",
                  "szerokosc", "enlem", "breedtegraad", "leveysaste"),
    "lon": _names("lon", "lng", "long", "longitude", "x", "länge", "laenge", "längengrad", "laengengrad",
                  "долгота", "longitud", "longitudine", "longitudes", "geo_lon", "lon_wgs84", "wgs84_lon",
                  "point_x", "x_coord", "xcoord", "dlugosc", "boylam", "lengtegraad", "pituusaste"),
    "wkt": _names("wkt", "wkt_geom", "geometry", "geom", "the_geom", "geometrie", "geometria"),
    "speed": _names("speed", "maxspeed", "max_speed", "speed_limit", "speedlimit", "limit", "vitesse",
                    "vitesse_max", "vitesse_maximale", "velocidade", "velocidad", "velocidad_maxima",
                    "velocita", "tempo", "tempolimit", "geschwindigkeit", "höchstgeschwindigkeit", "vmax",
                    "limite", "snelheid", "max_snelheid", "скорость", "ограничение", "predkosc",
                    "speed_kmh", "speed_mph", "posted_speed", "limit_kmh"),
    "heading": _names("heading", "bearing", "azimuth", "azimut", "direction", "compass", "compass_direction",
                      "richtung", "fahrtrichtung", "angle", "course", "cap", "rumbo", "direccion", "direzione",
                      "direcao", "richting", "направление", "orientation", "dir"),
    "type": _names("camera_type", "type", "cameratype", "type_radar", "typeradar", "radar_type", "tipo",
                   "typ", "category", "categorie", "kategorie", "categoria", "art", "kind", "тип", "soort",
                   "rodzaj", "rodzaj_urzadzenia"),
    "name": _names("name", "nom", "nombre", "nome", "naam", "title", "titel", "titre", "label",
                   "название", "bezeichnung", "nazwa"),
    "description": _names("description", "desc", "descr", "beschreibung", "descripcion", "descrizione",
                          "descricao", "omschrijving", "описание", "comment", "comments", "notes", "remarks",
                          "details", "info"),
    "road": _names("road", "street", "rue", "strasse", "straße", "route", "via", "calle", "rua", "strada",
                   "weg", "straat", "address", "adresse", "direccion_postal", "location", "lieu", "ort",
                   "улица", "дорога", "road_name", "street_name", "highway", "carretera", "droga", "ulica"),
    "country": _names("country", "country_code", "countrycode", "iso", "iso2", "land", "pays", "pais",
                      "paese", "страна"),
    "id": _names("id", "ref", "reference", "uid", "uuid", "objectid", "fid", "camera_id", "cameraid",
                 "camera_ref", "nr", "numero", "nummer"),
}


@dataclass
class Mapping:
    """Which column holds what, the speed unit and the type table."""

    columns: dict[str, str] = field(default_factory=dict)   # field -> column name as in the file
    speed_unit: str = "auto"                                 # kmh | mph | auto
    types: dict[str, str] = field(default_factory=dict)      # exact value (any case) -> type slug
    type_patterns: dict[str, str] = field(default_factory=dict)  # regular expression -> type slug
    delimiter: str = ""                                      # CSV delimiter; "" = detect
    inferred: bool = True                                    # columns found from the header names

    def to_dict(self) -> dict:
        return {"columns": dict(self.columns), "speed_unit": self.speed_unit, "types": dict(self.types),
                "type_patterns": dict(self.type_patterns), "delimiter": self.delimiter}

    @classmethod
    def from_dict(cls, data: dict, where: str = "mapping") -> "Mapping":
        return _validated(data, where)

    def describe(self) -> str:
        cols = ", ".join(f"{f} <- {self.columns[f]!r}" for f in FIELDS if f in self.columns)
        lines = [f"columns: {cols or '(none)'}", f"speed unit: {self.speed_unit}"]
        if self.delimiter:
            lines.append(f"delimiter: {self.delimiter!r}")
        for value, slug in self.types.items():
            lines.append(f"type {value!r} -> {slug}")
        for pattern, slug in self.type_patterns.items():
            lines.append(f"type /{pattern}/ -> {slug}")
        return "\n".join(lines)


def infer(header: list[str]) -> Mapping:
    """The mapping the header names suggest (the first column per field; no column twice)."""
    normal = [normalize(h) for h in header]
    taken: set[int] = set()
    columns: dict[str, str] = {}
    for fname in FIELDS:
        for alias in ALIASES[fname]:
            hits = [i for i, n in enumerate(normal) if n == alias and i not in taken]
            if hits:
                columns[fname] = header[hits[0]]
                taken.add(hits[0])
                break
    return Mapping(columns=columns)


def type_slug(value, where: str) -> str:
    """A type given as code, slug or name -> its slug; FormatError naming the valid ones."""
    try:
        return CameraType.parse(value).slug
    except ValueError:
        valid = ", ".join(t.slug for t in CameraType)
        raise FormatError(f"{where}: type {value!r} is not a camera type; valid: {valid}") from None


_TOP_KEYS = ("columns", "id", "speed_unit", "types", "type_patterns", "delimiter")


def _validated(data, where: str) -> Mapping:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: a mapping is a table of keys ({', '.join(_TOP_KEYS)})")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise FormatError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(_TOP_KEYS)}")
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise FormatError(f"{where}: [columns] must be a table of field = \"column name\"")
    bad = [k for k in columns if k not in FIELDS]
    if bad:
        raise FormatError(f"{where}: unknown field(s) in [columns]: {', '.join(map(repr, bad))}; "
                          f"valid fields: {', '.join(FIELDS)}")
    cols = {}
    for key, value in columns.items():
        if not isinstance(value, str):
            raise FormatError(f"{where}: [columns] {key} must be a column name in quotes, got {value!r}")
        if value.strip():
            cols[key] = value.strip()
    if data.get("id") not in (None, ""):
        if not isinstance(data["id"], str):
            raise FormatError(f"{where}: id must be a column name in quotes, got {data['id']!r}")
        cols["id"] = data["id"].strip()
    unit = str(data.get("speed_unit", "auto")).strip().lower().replace("/", "")
    if unit not in SPEED_UNITS:
        raise FormatError(f"{where}: speed_unit {data.get('speed_unit')!r} is not one of {', '.join(SPEED_UNITS)}")
    types, patterns = {}, {}
    for key, target in (("types", types), ("type_patterns", patterns)):
        table = data.get(key) or {}
        if not isinstance(table, dict):
            raise FormatError(f"{where}: [{key}] must be a table of \"value\" = \"camera type\"")
        for value, slug in table.items():
            if key == "type_patterns":
                try:
                    re.compile(value)
                except re.error as err:
                    raise FormatError(f"{where}: [type_patterns] {value!r} is not a regular expression: {err}") from None
            target[str(value)] = type_slug(slug, f"{where}: [{key}] {value!r}")
    delimiter = data.get("delimiter") or ""
    if delimiter == "\\t":
        delimiter = "\t"
    if not isinstance(delimiter, str) or len(delimiter) > 1:
        raise FormatError(f"{where}: delimiter must be one character such as \";\" or \"\\t\", got {delimiter!r}")
    if ("lat" in cols) != ("lon" in cols):
        raise FormatError(f"{where}: name both lat and lon columns (or a wkt column), not just one")
    return Mapping(columns=cols, speed_unit=unit, types=types, type_patterns=patterns, delimiter=delimiter,
                   inferred=False)


def load(path) -> Mapping:
    """A mapping file: TOML (``.toml``) or YAML (``.yaml`` / ``.yml``, needs PyYAML)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such mapping file")
    raw = path.read_bytes()
    if path.suffix.lower() in (".yaml", ".yml"):
        if yaml is None:
            raise FormatError(f"{path}: YAML mapping files need PyYAML (pip install PyYAML); "
                              f"or write the mapping in TOML")
        try:
            data = yaml.safe_load(raw.decode("utf-8-sig"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise FormatError(f"{path}: not valid YAML: {err}") from None
    else:
        try:
            data = tomllib.loads(raw.decode("utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise FormatError(f"{path}: not valid TOML: {err}") from None
    return _validated(data, str(path.name))
