"""Mercedes-Benz COMAND Online personal POIs (identifier ``daimler-gpx``): GPX 1.1 with
Daimler's extensions, one file per category in the card's ``PersonalPOI`` folder.

What COMAND reads (docs/formats/comand.md; the community reference gplv2/mercedespoi,
DAIMLER_GPX_FORMAT.md, since Daimler's own XSD files are no longer online):

- UTF-8 ``.gpx`` files in the folder ``PersonalPOI`` at the root of the SD card, read live
  from the card;
- every GPX element written with the ``gpx:`` prefix (``gpx:gpx``, ``gpx:wpt``,
  ``gpx:name``, ``gpx:extensions``: the reference calls the prefix required), the
  extensions with the ``gpxd:`` prefix bound to ``http://www.daimler.com/DaimlerGPXExtensions/V2.4``;
- per waypoint one ``gpxd:WptExtension`` holding, in this order, ``gpxd:WptIconId``
  (``IconId`` 1-19, COMAND's built-in icons), ``gpxd:POICategory`` (``Cat``: free text;
  POIs of one category are grouped and shown or hidden together), ``gpxd:Activity``
  (``Active``, ``Level`` warning / information / sound, ``Unit`` second / kilometer /
  mile, ``Value``) and ``gpxd:Presentation`` (``ShowOnMap``). ``Address`` and ``Phone``
  are optional and not written;
- file names of ASCII letters, digits, ``-`` and ``_`` (other characters are reported to
  cause trouble on some firmware);
- at most about 25,000 POIs on the whole card: above it every POI is ignored, with no
  error. The device catalog declares that as a hard limit (``devices.Limit.hard``), so a
  package over it is refused with what to leave out (``exporters.package``).

Written here:

- ``PersonalPOI/speedcams_<category>.gpx`` (``fixed``, ``red-light``, ``section``, ``route``,
  ``other``, ``danger``, ``mobile``), cameras in id order;
- ``gpx:wpt lat lon`` with 6 decimals; ``gpx:name`` the display name ("Speed 50 A7", the
  speed in the camera's unit, ``common.poi_names``), any ``@`` of the road a space, as in
  every GPX of the project;
- ``gpxd:WptIconId``: 16 (fixed camera) for speed, red-light, section and route-enforcement
  cameras, 6 (camera on a tripod, the community's speed-camera icon) for other enforcement
  and mobile cameras, 12 (map pin) for danger zones;
- ``gpxd:POICategory Cat``: the category title ("Speed cameras");
- ``gpxd:Activity Active="true" Level="warning"`` (on-screen warning and tone), with the
  options' alert distance: by default (``proximity_m`` None) ``Unit="second"``: COMAND warns
  that many seconds before the camera at the current speed, so the warning comes earlier
  when the car is faster; the lead time is the time to cover the project's scaled alert
  distance (``base.proximity_by_limit``) at the camera's limit, rounded up to whole seconds
  (``lead_seconds``: 36 s at 30 km/h, 22 s at 50, 20 s at 90, 27 s at 110, 28 s at 130),
  and 36 s when the limit is unknown (500 m at 50 km/h, the reference's recommended value).
  With ``proximity_m`` set every camera gets that fixed distance: ``Unit="kilometer"``,
  ``Value`` the metres / 1000 ("0.45"). A France danger zone (``fr_danger_zones``) warns at a
  fixed distance, its length (``ExportOptions.proximity_for``: 300 m to 4 km, or the
  option's distance if longer), which from the zone's point covers the whole zone;
- ``gpxd:Presentation ShowOnMap="true"``.

The elements are written with explicit end tags (``<gpxd:WptIconId IconId="16"></gpxd:WptIconId>``),
as the community files that run on the cars do. No ``creator`` details, no timestamps: the
same cameras and options give the same bytes. Not direction-aware (COMAND has no heading for
a personal POI); a section or zone with an end point is one waypoint at its start.

GPSBabel 1.8.0 reads no waypoint of these files: its GPX reader matches unprefixed element
names only. The tests show that the same XML with the GPX namespace as the default
namespace (what any namespace-aware reader sees) is read by GPSBabel in full.
"""

from __future__ import annotations

import re

import numpy as np
from ..i18n import gettext_noop

from exporters import sizing
from exporters.base import CameraSet, Exporter, ExportOptions, RenderResult, proximity_by_limit, register
from exporters.bulk import category_groups, rows_of
from exporters.common import categories, poi_names, select, select_index
from exporters.france import zone_lengths_of
from exporters.interchange import (check_positions, encoded_size, grouped_model, has_end_point, position_errors,
                                   stretch_notes, text_file)
from exporters.plugins.gpx import road_for_name
from exporters.textrows import ChunkTexts, group_codes, number_pieces, row_sizes, texts, write_rows, xml_escape
from exporters.i18n import gettext, ngettext, number

GPX_NS = "http://www.topografix.com/GPX/1/1"
DAIMLER_NS = "http://www.daimler.com/DaimlerGPXExtensions/V2.4"
FOLDER = "PersonalPOI"

# COMAND's built-in icons (IconId 1-19) per category
ICON_IDS = {"fixed": 16, "red-light": 16, "section": 16, "route": 16, "other": 6, "danger": 12,
            "mobile": 6}
DEFAULT_ICON = 6
UNKNOWN_LEAD_S = 36   # seconds of warning for a camera whose limit is unknown (500 m at 50 km/h)

HEADER = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
          f'<gpx:gpx creator="speedcam-portal" version="1.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
          f'xmlns:gpx="{GPX_NS}" xsi:schemaLocation="{GPX_NS} http://www.topografix.com/GPX/1/1/gpx.xsd" '
          f'xmlns:gpxd="{DAIMLER_NS}">\n')
FOOTER = "</gpx:gpx>\n"


def file_name(slug: str) -> str:
    """``PersonalPOI/speedcams_<slug>.gpx`` with only ASCII letters, digits, ``-`` and ``_``
    in the name."""
    return f"{FOLDER}/speedcams_{re.sub(r'[^A-Za-z0-9_-]', '_', slug)}.gpx"


def lead_seconds(speed_kmh) -> np.ndarray:
    """Seconds of warning per camera: the scaled alert distance at its limit (km/h) driven at
    the limit, rounded up; ``UNKNOWN_LEAD_S`` where the limit is unknown (0)."""
    speed = np.asarray(speed_kmh, dtype=np.int64)
    metres = proximity_by_limit(speed)
    with np.errstate(divide="ignore", invalid="ignore"):
        seconds = np.ceil(metres * 3.6 / np.maximum(speed, 1) - 1e-9).astype(np.int64)
    return np.where(speed > 0, seconds, UNKNOWN_LEAD_S)


def activity(speeds: list[int], zones: list[int], options: ExportOptions) -> list[str]:
    """The ``gpxd:Activity`` element per (speed limit in km/h, France danger-zone length in
    metres, 0 = not a zone): a zone warns at a fixed distance, its length (or the option's
    distance if longer: ``ExportOptions.proximity_for``), which covers the whole zone; other
    cameras at the option's distance, or by default the lead time of their limit."""
    out = []
    fixed = options.proximity_for(np.asarray(speeds, dtype=np.int64), zone_m=np.asarray(zones, dtype=np.int64))
    for speed, zone, metres, seconds in zip(speeds, zones, fixed.tolist(), lead_seconds(speeds).tolist()):
        if zone > 0 or options.proximity_m is not None:
            km = f"{metres / 1000:.3f}".rstrip("0").rstrip(".")
            out.append(f'<gpxd:Activity Active="true" Level="warning" Unit="kilometer" Value="{km}"></gpxd:Activity>')
        else:
            out.append(f'<gpxd:Activity Active="true" Level="warning" Unit="second" Value="{seconds}"></gpxd:Activity>')
    return out


def warning_text(options: ExportOptions) -> str:
    """When COMAND warns, a phrase of the first note (``%(warning)s``), in the active language."""
    if options.proximity_m is not None:
        values = {"distance": number(options.proximity_m)}
        if options.fr_danger_zones:
            return gettext("at %(distance)s m (a fixed distance, Unit 'kilometer'); a France danger zone at its "
                           "length (a fixed distance, 300 m to 4 km, or the option's if longer), which covers the "
                           "whole zone") % values
        return gettext("at %(distance)s m (a fixed distance, Unit 'kilometer')") % values
    values = {"steps": ", ".join(gettext("%(seconds)s s at %(speed)s km/h")
                                 % {"seconds": int(lead_seconds([s])[0]), "speed": s} for s in (30, 50, 90, 110, 130)),
              "unknown": UNKNOWN_LEAD_S}
    if options.fr_danger_zones:
        return gettext("a number of seconds before it at the current speed (Unit 'second'), so a faster car is "
                       "warned farther away; the lead time covers the alert distance of the camera's limit driven at "
                       "the limit (%(steps)s), and %(unknown)s s when the limit is unknown; a France danger zone at "
                       "its length (a fixed distance, 300 m to 4 km, or the option's if longer), which covers the "
                       "whole zone") % values
    return gettext("a number of seconds before it at the current speed (Unit 'second'), so a faster car is warned "
                   "farther away; the lead time covers the alert distance of the camera's limit driven at the limit "
                   "(%(steps)s), and %(unknown)s s when the limit is unknown") % values


def notes_for(options: ExportOptions, stretches: int) -> list[str]:
    # Translators: %(warning)s is a phrase such as "at 450 m (a fixed distance, Unit 'kilometer')"
    notes = [gettext("COMAND: every camera is a personal POI with Daimler's warning (Level 'warning': a message on "
                     "the screen and a tone) %(warning)s.") % {"warning": warning_text(options)},
             gettext("COMAND: POIs of one category (one file) are grouped under the category's name and can be "
                     "shown or hidden together.")]
    return notes + stretch_notes(None, "COMAND", lambda n: ngettext(
        "%(format)s: %(count)s section/stretch with an end point is one POI at its start.",
        "%(format)s: %(count)s sections/stretches with an end point are one POI at their start.", n), stretches)


def row_maker(cams: CameraSet, options: ExportOptions):
    """``make(idx, slug, title)``: the pieces of the waypoints of rows ``idx`` of one category,
    for ``textrows.write_rows`` (writer and size model alike)."""

    def build_names(rows):
        reps = rows_of(cams, rows, ("type", "speed", "road"))
        reps.columns["road"] = np.asarray(list(map(road_for_name, reps["road"].tolist())), dtype=object)
        return texts(poi_names(reps), xml_escape, "<gpx:name>", "</gpx:name>", always=True)

    key = [cams["type"], cams["speed"], cams["road"]]
    if "mph" in cams.columns:
        key.append(cams["mph"])
    names = ChunkTexts(key, build_names)
    zones = zone_lengths_of(cams)
    speed_codes, first = group_codes(cams["speed"], zones)  # the Activity depends on these only
    acts = activity(cams["speed"][first].tolist(), zones[first].tolist(), options)
    lat, lon = cams["lat"], cams["lon"]
    middles: dict[str, np.ndarray] = {}

    def make(idx, slug, title):
        middle = middles.get(slug)
        if middle is None:
            head = (f'<gpx:extensions><gpxd:WptExtension><gpxd:WptIconId IconId="{ICON_IDS.get(slug, DEFAULT_ICON)}">'
                    f'</gpxd:WptIconId><gpxd:POICategory Cat="{xml_escape(title)}"></gpxd:POICategory>')
            tail = ('<gpxd:Presentation ShowOnMap="true"></gpxd:Presentation></gpxd:WptExtension>'
                    '</gpx:extensions></gpx:wpt>\n')
            middle = middles[slug] = np.asarray([head + a + tail for a in acts], dtype=object)
        return [*number_pieces(lat[idx], 6, prefix='<gpx:wpt lat="', suffix='" lon="'),
                *number_pieces(lon[idx], 6, suffix='">'), names(idx), middle[speed_codes[idx]].tolist()]

    return make


@register
class DaimlerGpxExporter(Exporter):
    identifier = "daimler-gpx"
    verbose_name = gettext_noop("GPX with Daimler extensions (Mercedes-Benz COMAND personal POIs)")
    file_extension = ".gpx"
    encoding = "utf-8"
    max_name_length = None
    direction_aware = False
    speed_carried_as = "name"
    mobile_supported = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = select(cameras, options)
        check_positions(cams, "COMAND")
        make = row_maker(cams, options)
        files = [text_file(file_name(cat.slug),
                           [HEADER, lambda out, cat=cat: write_rows(out, cat.index,
                                                                    lambda i: make(i, cat.slug, cat.title)), FOOTER],
                           options, cat.slug, len(cat.index))
                 for cat in categories(cams, by_speed=False)]
        return RenderResult(files=files, skipped={}, notes=notes_for(options, int(has_end_point(cams).sum())))

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        cams, index = select_index(cameras, options)
        make = row_maker(cams, options)
        cats, group = category_groups(cams, by_speed=False)
        record_bytes = np.zeros(len(cams), np.int64)
        for cat in cats:
            record_bytes[cat.index] = row_sizes(cat.index, lambda i, cat=cat: make(i, cat.slug, cat.title))
        frame = encoded_size(HEADER) + encoded_size(FOOTER)

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            files = [sizing.FileSize(file_name(cat.slug), cat.slug, int(count), frame + int(size))
                     for cat, count, size in zip(cats, tally.counts, tally.bytes) if count]
            return sizing.SizedExport(files, {}, notes_for(options, tally.flags["stretches"]))

        return grouped_model(cameras, cams, index, group, record_bytes, len(cats), layout,
                             flags={"stretches": has_end_point(cams)},
                             check=lambda subset: check_positions(subset, "COMAND"), errors=position_errors(cams))

