"""Blaupunkt TravelPilot POI lists (identifier ``blaupunkt-kml``): one KML file per country
and category, each with a 22 x 22, 8-bit BMP icon of the same name.

What the device needs (TravelPilot 500 manual, chapter "Exkurs: POI-Listen"; facts in
docs/formats/blaupunkt.md):

- a POI list is a file named ``<country code>_<category 1>_<category 2>`` with one of the
  accepted extensions (``.kml`` first among them); the device sorts the lists by country
  and by the two categories read from the name, so the three parts are separated by
  underscores and carry no underscore or space themselves;
- the list's icon is a ``.bmp`` of the same name, 22 x 22 pixels, 8-bit colour.

Written here:

- ``<CC>_Speedcams_<Sub>.kml``: CC the camera's ISO 3166 country code (``XX`` for a camera
  without one); category 1 is always ``Speedcams``; category 2 the camera category in
  CamelCase (``Fixed``, ``RedLight``, ``Section``, ``Other``, ``Danger``, ``Mobile``), with
  the speed for the categories split by speed (``Fixed50``; no number when unknown), e.g.
  ``FR_Speedcams_Fixed50.kml``; a speed shown in mph (``exporters.units``) ends in ``mph``
  (``GB_Speedcams_Fixed30mph.kml``, placemarks "Speed 30 mph A40", a "30" sign);
- the KML: a plain KML 2.2 document (UTF-8) named like the file, one ``<Placemark>`` per
  camera in id order with its name ("Speed 50 A7"), its description when it has one, and a
  ``<Point>`` at the camera (a section or zone with an end point: its start, counted in a
  note); no styles: the device takes the icon from the BMP;
- ``<CC>_Speedcams_<Sub>.bmp``: the category's icon (the speed sign for a speed) drawn by
  ``exporters.icons`` at 22 x 22 and stored as an 8-bit palette BMP (``icons.to_bmp``:
  index 0 magenta, the see-through colour of TomTom and Garmin icons; whether the
  TravelPilot treats magenta as see-through is not documented). With the ``fr-danger``
  icon set the French lists use the danger sign without a number; a file holds one
  country, so no other country is affected.

Files are sorted by name, each .kml before its .bmp; same cameras, same bytes.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from exporters import sizing
from exporters.base import CameraSet, Exporter, ExportOptions, OutputFile, RenderResult, register
from exporters.bulk import rows_of
from exporters.common import CATEGORIES, category_codes, poi_names, select, select_index
from exporters.icons import draw_icon, to_bmp
from exporters.interchange import (check_positions, grouped_model, has_end_point, position_errors, stretch_notes,
                                   text_file)
from exporters.textrows import (ChunkTexts, NumberColumn, factorize, group_codes, row_sizes, texts, write_rows,
                                xml_escape)
from exporters.units import mph_of, shown_speeds, unit_columns
from exporters.i18n import gettext, gettext_noop, ngettext

KML_NS = "http://www.opengis.net/kml/2.2"
MAIN_CATEGORY = "Speedcams"
SUB_CATEGORY = {"fixed": "Fixed", "red-light": "RedLight", "section": "Section", "route": "Route", "other": "Other",
                "danger": "Danger", "mobile": "Mobile"}
BY_SPEED = frozenset({"fixed", "red-light", "section"})  # category 2 carries the speed
NO_COUNTRY = "XX"
ICON_SIZE, ICON_BITS = 22, 8
FOOT = "</Document>\n</kml>\n"
NOTE = gettext_noop("Blaupunkt: one POI list per country and camera category, named <country>_Speedcams_<category> as the "
        "TravelPilot manual asks, each with its 22x22 icon; a POI list carries no heading or alert distance.")
FR_NOTE = gettext_noop("Blaupunkt: the France lists use the danger sign without a speed number; other countries "
                       "keep their icons.")
_CODE = re.compile(r"^[A-Z]{2}$")
_SLUGS = [slug for slug, _, _ in CATEGORIES]


def country_codes(cams: CameraSet) -> np.ndarray:
    """The list's country code per camera: the ISO code in capitals, ``XX`` when missing or not two letters."""
    codes, fixed = _country_table(cams)
    return np.asarray(fixed, dtype=object)[codes] if len(codes) else np.array([], dtype=object)


def _country_table(cams: CameraSet) -> tuple[np.ndarray, list[str]]:
    """(code per camera, list country code per code): the country column factorized, each
    distinct value made a code once (``str`` of it, as numpy's ``astype(str)``)."""
    codes, values = factorize(np.asarray(cams["country"], dtype=object))
    fixed = []
    for value in values:
        text = str(value).rstrip("\x00").upper()  # as numpy's astype(str), which drops trailing NULs
        fixed.append(text if _CODE.match(text) else NO_COUNTRY)
    return codes, fixed


def list_groups(cams: CameraSet) -> tuple[np.ndarray, list[tuple[str, str, int, str]]]:
    """(group per camera, (list name, category slug, speed, country) per group), groups
    numbered in list-name order; each name is made once per distinct (country, category, speed)."""
    if not len(cams):
        return np.zeros(0, dtype=np.int64), []
    cat = category_codes(cams).astype(np.int64)
    by_speed = np.array([slug in BY_SPEED for slug in _SLUGS])[cat]
    speed = np.where(by_speed, shown_speeds(cams), 0)  # in the camera's unit (``exporters.units``)
    mph = mph_of(cams) & (speed > 0)
    codes, fixed = _country_table(cams)
    countries, of_code = np.unique(np.asarray(fixed, dtype=str), return_inverse=True)  # sorted, as before
    country = of_code.reshape(-1)[codes]
    codes, first = group_codes(country, cat, speed, mph)
    specs = [(f"{countries[country[i]]}_{MAIN_CATEGORY}_{SUB_CATEGORY[_SLUGS[cat[i]]]}{speed[i] or ''}"
              f"{'mph' if mph[i] else ''}",
              _SLUGS[cat[i]], int(speed[i]), str(countries[country[i]])) for i in first.tolist()]
    order = sorted(range(len(specs)), key=lambda k: specs[k][0])
    rank = np.empty(len(specs), dtype=np.int64)
    rank[order] = np.arange(len(specs))
    return rank[codes], [specs[k] for k in order]


def head(list_name: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="{KML_NS}">\n<Document>\n'
            f"<name>{xml_escape(list_name)}</name>\n")


def icon_set_for(country: str, options: ExportOptions) -> str:
    return "fr-danger" if options.icons == "fr-danger" and country == "FR" else "speed"


def icon_bmp(slug: str, speed: int, icon_set: str) -> bytes:
    """The list's icon: 22 x 22 pixels, an 8-bit palette BMP (made once per slug, speed and
    set: the lists of every country share it)."""
    return _icon_bmp(slug, speed, icon_set)


@functools.lru_cache(maxsize=256)
def _icon_bmp(slug: str, speed: int, icon_set: str) -> bytes:
    return to_bmp(draw_icon(slug, speed, ICON_SIZE, icon_set), ICON_BITS)


def placemarks(cams: CameraSet):
    """``make(idx)``: the pieces of the placemarks of rows ``idx`` (for ``textrows``)."""
    lat, lon, description = cams["lat"], cams["lon"], cams["description"]
    # names once per distinct (type, speed, unit, road), descriptions once per distinct text
    # (``ChunkTexts``, a chunk at a time: no table of every name)
    names = ChunkTexts((cams["type"], cams["speed"], *unit_columns(cams), cams["road"]),
                       lambda rows: texts(poi_names(rows_of(cams, rows)), xml_escape, "<Placemark><name>", "</name>",
                                          always=True))
    descriptions = ChunkTexts((description,), lambda rows: texts(description[rows], xml_escape, "<description>",
                                                                 "</description>"))

    # the numbers' digits are worked out once for all rows (``NumberColumn``), picked per chunk
    lon_text = NumberColumn(lon, 6, prefix="<Point><coordinates>", suffix=",")
    lat_text = NumberColumn(lat, 6, suffix="</coordinates></Point></Placemark>\n")

    def make(idx):
        return [names(idx), descriptions(idx), *lon_text(idx), *lat_text(idx)]

    return make


def notes_for(options: ExportOptions, stretches: int, french: int) -> list[str]:
    notes = [gettext(NOTE)] + stretch_notes(None, "Blaupunkt", lambda n: ngettext(
        "%(format)s: %(count)s section/stretch with an end point is written as one point at its start.",
        "%(format)s: %(count)s sections/stretches with an end point are written as one point at their start.", n),
        stretches)
    if options.icons == "fr-danger" and french:
        notes.append(gettext(FR_NOTE))
    return notes


@register
class BlaupunktExporter(Exporter):
    identifier = "blaupunkt-kml"
    verbose_name = gettext_noop("Blaupunkt TravelPilot POI lists (KML per country and category, 22x22 8-bit BMP icons)")
    file_extension = ".kml"
    encoding = "utf-8"
    max_name_length = None
    direction_aware = False
    speed_carried_as = "file"  # and in the names
    mobile_supported = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = select(cameras, options)
        check_positions(cams, "Blaupunkt")
        group, specs = list_groups(cams)
        make = placemarks(cams)
        order = np.argsort(group, kind="stable")  # rows of each list in id order
        bounds = np.searchsorted(group[order], np.arange(len(specs) + 1))
        files = []
        for g, (name, slug, speed, country) in enumerate(specs):
            rows = order[bounds[g]:bounds[g + 1]]
            parts = [head(name), lambda out, rows=rows: write_rows(out, rows, make), FOOT]
            files.append(text_file(f"{name}.kml", parts, options, name, len(rows)))
            files.append(OutputFile(f"{name}.bmp", icon_bmp(slug, speed, icon_set_for(country, options)), name))
        french = int((cams["country"] == "FR").sum()) if len(cams) else 0
        return RenderResult(files=files, skipped={}, notes=notes_for(options, int(has_end_point(cams).sum()), french))

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        cams, index = select_index(cameras, options)
        group, specs = list_groups(cams)
        record = row_sizes(np.arange(len(cams)), placemarks(cams)) if len(cams) else np.zeros(0, np.int64)
        fixed = [len(head(name).encode()) + len(FOOT) for name, *_ in specs]
        icons = [len(icon_bmp(slug, speed, icon_set_for(country, options))) for _, slug, speed, country in specs]

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            files = []
            for g in np.flatnonzero(tally.counts).tolist():
                name = specs[g][0]
                files.append(sizing.FileSize(f"{name}.kml", name, int(tally.counts[g]),
                                             fixed[g] + int(tally.bytes[g])))
                files.append(sizing.FileSize(f"{name}.bmp", name, 0, icons[g]))
            return sizing.SizedExport(files, {}, notes_for(options, tally.flags["stretches"], tally.flags["french"]))

        flags = {"stretches": has_end_point(cams), "french": (cams["country"] == "FR") if len(cams) else
                 np.zeros(0, bool)}
        return grouped_model(cameras, cams, index, group, record, len(specs), layout, flags,
                             check=lambda sub: check_positions(sub, "Blaupunkt"), errors=position_errors(cams))
