"""Column mappings of the tabular reader (``table``); documented in docs/feed-table.md.

Not a reader: it registers nothing. A ``Mapping`` says which column of a camera list holds
which field (``lat``, ``lon``, ``wkt``, ``speed``, ``heading``, ``type``, ``name``,
``description``, ``road``, ``country``, ``id``, ``status``), the speed unit, a type table
(exact values and regular expressions -> camera type), a heading table (exact values ->
degrees or both/all) and defaults (``[defaults] type``: the type of every row or name that
says none; the OV2, Garmin CSV, GPX and KML readers use it too). ``infer`` builds one from
header names in several languages; ``load`` reads one written down in TOML (or YAML when
PyYAML is installed); ``to_dict`` / ``from_dict`` store it on the source so re-imports use
it. Plain Python, no Django.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from exporters.schema import CameraType

from .base import FormatError, parse_direction

try:  # optional: a mapping file may be YAML when PyYAML is installed
    import yaml
except ImportError:  # pragma: no cover - depends on the environment
    yaml = None


FIELDS = ("lat", "lon", "wkt", "speed", "heading", "type", "name", "description", "road", "country", "id",
          "status")
SPEED_UNITS = ("kmh", "mph", "auto")
# Fields that may be read from several columns (a list in [columns]): their values joined,
# "/" between headings ("EB" and "WB" -> "EB/WB": both ways), " / " between texts.
JOINABLE = ("heading", "name", "description", "road")


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
                    "speed_kmh", "speed_mph", "posted_speed", "limit_kmh", "speedlimitmph", "speed_limit_mph",
                    "speedlimitkmh", "speed_limit_kmh", "limit_mph", "maxspeed_mph", "maxspeed_kmh", "mph", "kmh",
                    "velocidadpermitida", "velocidad_permitida", "velocidad_maxima_permitida", "vitesse_autorisee",
                    "zulassige_geschwindigkeit", "dopuszczalna_predkosc"),
    "heading": _names("heading", "bearing", "azimuth", "azimut", "direction", "compass", "compass_direction",
                      "richtung", "fahrtrichtung", "angle", "course", "cap", "rumbo", "direccion", "direzione",
                      "direcao", "richting", "направление", "orientation", "dir", "sentido", "sens",
                      "camera_facing", "facing", "approach", "first_approach", "travel_direction", "direction_of_travel"),
    "type": _names("camera_type", "type", "cameratype", "type_radar", "typeradar", "radar_type", "tipo",
                   "typ", "category", "categorie", "kategorie", "categoria", "art", "kind", "тип", "soort",
                   "rodzaj", "rodzaj_urzadzenia", "camera_kind", "device_type", "tipo_radar", "tipo_camara"),
    "name": _names("name", "nom", "nombre", "nome", "naam", "title", "titel", "titre", "label",
                   "название", "bezeichnung", "nazwa", "cameraname", "camera_name", "site_name", "sitename"),
    "description": _names("description", "desc", "descr", "beschreibung", "descripcion", "descrizione",
                          "descricao", "omschrijving", "описание", "comment", "comments", "notes", "remarks",
                          "details", "info", "road_direction"),
    "road": _names("road", "street", "rue", "strasse", "straße", "route", "via", "calle", "rua", "strada",
                   "weg", "straat", "address", "adresse", "direccion_postal", "location", "lieu", "ort",
                   "улица", "дорога", "road_name", "street_name", "highway", "carretera", "droga", "ulica",
                   "roadprimary", "road_primary", "primary_road", "calleruta", "calle_ruta", "ruta"),
    "country": _names("country", "country_code", "countrycode", "iso", "iso2", "land", "pays", "pais",
                      "paese", "страна"),
    "id": _names("id", "ref", "reference", "uid", "uuid", "objectid", "fid", "camera_id", "cameraid",
                 "camera_ref", "nr", "numero", "nummer", "nroserie", "nro_serie", "numero_serie", "serial",
                 "serial_number"),
    # planned / removed cameras are listed rejections (tabular.STATUS); a column whose
    # values are none of the status words is no status column
    "status": _names("status", "status_clean", "camera_status", "state", "etat", "statut", "estado", "estatus",
                     "stato", "zustand", "situacao", "stan", "состояние", "статус", "active", "is_active",
                     "enabled", "in_service"),
}

# A speed column whose name gives the unit ("speedLimitMph", "speed_kmh").
_MPH_NAME = re.compile(r"mph|milesperhour")
_KMH_NAME = re.compile(r"kmh|kph|kmph|kmperhour")


def column_unit(name: str) -> str:
    """``mph`` or ``kmh`` when a column's name says the unit of its numbers, else ""."""
    normal = normalize(name)
    if _MPH_NAME.search(normal):
        return "mph"
    if _KMH_NAME.search(normal):
        return "kmh"
    return ""


@dataclass
class Mapping:
    """Which column holds what, the speed unit, the type and heading tables and the defaults."""

    columns: dict = field(default_factory=dict)   # field -> column name as in the file (or a list, JOINABLE)
    speed_unit: str = "auto"                                 # kmh | mph | auto
    types: dict[str, str] = field(default_factory=dict)      # exact value (any case) -> type slug
    type_patterns: dict[str, str] = field(default_factory=dict)  # regular expression -> type slug
    delimiter: str = ""                                      # CSV delimiter; "" = detect
    inferred: bool = True                                    # columns found from the header names
    headings: dict[str, str] = field(default_factory=dict)   # exact value (any case) -> heading text
    defaults: dict[str, str] = field(default_factory=dict)   # "type" -> type slug for rows that say none

    def to_dict(self) -> dict:
        data = {"columns": {k: list(v) if isinstance(v, list) else v for k, v in self.columns.items()},
                "speed_unit": self.speed_unit, "types": dict(self.types),
                "type_patterns": dict(self.type_patterns), "delimiter": self.delimiter}
        if self.headings:
            data["headings"] = dict(self.headings)
        if self.defaults:
            data["defaults"] = dict(self.defaults)
        return data

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
        for value, heading in self.headings.items():
            lines.append(f"heading {value!r} -> {heading}")
        for key, value in self.defaults.items():
            lines.append(f"default {key}: {value}")
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


_TOP_KEYS = ("columns", "id", "speed_unit", "types", "type_patterns", "headings", "defaults", "delimiter")
_DEFAULT_KEYS = ("type",)


def _table(data: dict, key: str, where: str, known, shape: str, noun: str = "key", valid: str = "valid",
           note: str = "") -> dict:
    """The mapping's [key] table (empty when not given), refused when it is no table or has a
    key not in ``known``; ``shape`` says what the table holds ("a table of ...")."""
    table = data.get(key) or {}
    if not isinstance(table, dict):
        raise FormatError(f"{where}: [{key}] must be a table {shape}")
    bad = [k for k in table if k not in known]
    if bad:
        raise FormatError(f"{where}: unknown {noun}(s) in [{key}]: {', '.join(map(repr, bad))}; "
                          f"{valid}: {', '.join(known)}{note}")
    return table


def _validated(data, where: str) -> Mapping:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: a mapping is a table of keys ({', '.join(_TOP_KEYS)})")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise FormatError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(_TOP_KEYS)}")
    columns = _table(data, "columns", where, FIELDS, "of field = \"column name\"", noun="field", valid="valid fields")
    cols: dict = {}
    for key, value in columns.items():
        if key in JOINABLE and isinstance(value, list) and value and all(isinstance(v, str) and v.strip()
                                                                         for v in value):
            names = [v.strip() for v in value]
            cols[key] = names if len(names) > 1 else names[0]
            continue
        if not isinstance(value, str):
            several = f" or a list of column names ({', '.join(JOINABLE)})" if key in JOINABLE else ""
            raise FormatError(f"{where}: [columns] {key} must be a column name in quotes{several}, got {value!r}")
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
    headings = _headings(data.get("headings"), where)
    defaults = _table(data, "defaults", where, _DEFAULT_KEYS, "such as type = \"red-light\"",
                      note=" (the speed unit is the top-level speed_unit)")
    defaults = {"type": type_slug(defaults["type"], f"{where}: [defaults] type")} if "type" in defaults else {}
    delimiter = data.get("delimiter") or ""
    if delimiter == "\\t":
        delimiter = "\t"
    if not isinstance(delimiter, str) or len(delimiter) > 1:
        raise FormatError(f"{where}: delimiter must be one character such as \";\" or \"\\t\", got {delimiter!r}")
    if ("lat" in cols) != ("lon" in cols):
        raise FormatError(f"{where}: name both lat and lon columns (or a wkt column), not just one")
    return Mapping(columns=cols, speed_unit=unit, types=types, type_patterns=patterns, delimiter=delimiter,
                   inferred=False, headings=headings, defaults=defaults)


def _headings(table, where: str) -> dict[str, str]:
    """The [headings] table: value -> degrees (a number), a direction word or both/all."""
    if not table:
        return {}
    if not isinstance(table, dict):
        raise FormatError(f"{where}: [headings] must be a table of \"value\" = degrees or \"both\"")
    out = {}
    for value, heading in table.items():
        if isinstance(heading, bool) or not isinstance(heading, (int, float, str)):
            raise FormatError(f"{where}: [headings] {value!r} must be degrees (0-359) or a direction such as "
                              f"\"N\", \"NB/SB\", \"both\" or \"all\", got {heading!r}")
        text = f"{heading:g}" if isinstance(heading, (int, float)) else heading.strip()
        try:
            parse_direction(text)
        except ValueError:
            raise FormatError(f"{where}: [headings] {value!r} = {heading!r} is not degrees (0-359) or a direction "
                              f"such as \"N\", \"NB/SB\", \"both\" or \"all\"") from None
        out[str(value)] = text
    return out


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
