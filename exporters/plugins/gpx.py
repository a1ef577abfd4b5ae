"""GPX 1.1 waypoints with the Garmin proximity extension (identifier ``gpx``).

One file per category (``Speed cameras.gpx``, ``Red-light cameras.gpx``, ...): Garmin POI
Loader makes one category per file and names it after the file, and head units that take
GPX (Mercedes COMAND, VW MIB) and apps show files as lists. Each camera is one ``<wpt>``:

``name``
    POI Loader style, "Speed A7@50": the ``@50`` suffix is the speed POI Loader turns into a
    speed alert, a bare number in the one unit of the export (``units.file_unit``: the
    option's, or with "auto" that of most cameras; the notes say which units to pick in POI
    Loader). That suffix
    is the only "@" of a name: GPSBabel's GPI writer takes whatever follows the *first* "@" as
    the speed, so a road such as "Rue@Gare" would lose the alert (or give a wrong one). The
    road's "@" become spaces (``road_for_name``; POI Loader CSV does the same); the
    description (``desc``) is not a name and keeps its text.
``cmt``
    the camera type in words, with the limits ("Red-light and speed camera, 70 km/h").
``desc``
    the camera's description (left out when empty).
``sym`` / ``type``
    a Garmin symbol name per category (devices without custom icons show it) / the
    category title.
``extensions``
    ``gpxx:WaypointExtension/gpxx:Proximity``: the alert distance in metres
    (``options.proximity_for`` the camera's limit: by default 300 m up to 50 km/h, 500 m up
    to 90, 800 m up to 110, 1,000 m above, 500 m when unknown; or the one distance the
    options give), Garmin GpxExtensions v3 namespace, which Garmin POI Loader turns into the
    POI's proximity alert and GPSBabel reads as the waypoint's proximity; then the project's own
    ``sc:camera`` element (namespace ``CAMERA_NS``) with the attributes ``ref`` (camera id),
    ``type`` (type slug), ``kind`` (only when it is not the type's default), ``speed``,
    ``truck_speed``, ``direction`` (``all``/``one``/``both``), ``heading`` (degrees of the
    enforced traffic) and ``end_lat``/``end_lon`` for stretches. The attribute names and values
    are those of the feed CSV (docs/feed-csv.md), so our importer can read them with the CSV
    rules. Devices ignore this element: alerts from a GPX are **not direction-aware**.

Escaping: ``& < > "`` are escaped everywhere; characters XML 1.0 forbids are dropped. No
timestamps anywhere (GPX ``<time>`` is optional and left out), so the bytes depend only on
the cameras and the options. Written column-wise (``exporters.textrows``), not row by row.
"""

from __future__ import annotations

import numpy as np
from ..i18n import gettext_noop

from exporters import sizing, units
from exporters.base import CameraSet, Exporter, ExportOptions, RenderResult, register
from exporters.common import categories, poi_names, select, select_index
from exporters.schema import Kind
from exporters.textrows import (ChunkTexts, NumberColumn, group_codes, row_sizes, texts, write_rows,
                        xml_escape)
from exporters.bulk import category_groups, rows_of
from exporters.france import zone_lengths_of
from exporters.interchange import (DIRECTION_WORDS, check_positions, describe_type, directions,
                           encoded_size, grouped_model, has_end_point, kind_differs, position_errors, stretch_notes,
                           text_file, type_slugs)
from exporters.i18n import gettext, ngettext

GPX_NS = "http://www.topografix.com/GPX/1/1"
GPXX_NS = "http://www.garmin.com/xmlschemas/GpxExtensions/v3"
CAMERA_NS = "urn:speedcam-portal:camera:1"  # the project's own extension (see module docstring)
SCHEMA_LOCATION = (f"{GPX_NS} http://www.topografix.com/GPX/1/1/gpx.xsd "
                   f"{GPXX_NS} http://www8.garmin.com/xmlschemas/GpxExtensionsv3.xsd")

# Garmin symbol names (from the standard Garmin symbol table) per category.
CATEGORY_SYMBOLS = {
    "fixed": "Danger Area",
    "red-light": "Flag, Red",
    "section": "Flag, Blue",
    "other": "Flag, Green",
    "route": "Car",
    "danger": "Restricted Area",
    "mobile": "Police Station",
}


def road_for_name(road) -> str:
    """A road for a waypoint name: every "@" a space (runs of white space then made one), so
    that the name's only "@" is the speed marker; a road without "@" is kept as it is."""
    road = road or ""
    return " ".join(road.replace("@", " ").split()) if "@" in road else road


def camera_attributes(cams: CameraSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code per camera, table of 'type="speed" speed="50" direction="one" ref="' texts, speed
    limit per code).

    The attributes of ``sc:camera`` that take few distinct values, then the start of ``ref``;
    ``kind`` only where it is not the default of the type.
    """
    _, mode = directions(cams)
    odd_kind = kind_differs(cams)
    # a France danger zone's length sets its alert distance: zones of different lengths differ
    codes, first = group_codes(cams["type"], cams["speed"], cams["truck_speed"], mode, odd_kind, zone_lengths_of(cams))
    slugs = type_slugs()
    table = []
    for t, k, sp, ts, m, odd in zip(*(cams[c][first].tolist() for c in ("type", "kind", "speed", "truck_speed")),
                                    mode[first].tolist(), odd_kind[first].tolist()):
        text = f'type="{slugs[t] if 0 <= t < len(slugs) and slugs[t] else t}"'
        if odd:
            text += f' kind="{"mobile" if k == Kind.MOBILE else "fixed"}"'
        if sp > 0:
            text += f' speed="{sp}"'
        if ts > 0:
            text += f' truck_speed="{ts}"'
        text += f' direction="{DIRECTION_WORDS.get(m, "all")}" ref="'
        table.append(text)
    return codes, np.asarray(table, dtype=object), cams["speed"][first].astype(np.int64)


# ---------------------------------------------------------------------------------------
# The plugin


FOOT = "</gpx>\n"


def file_header(title: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<gpx version="1.1" creator="speedcam-portal" xmlns="{GPX_NS}" xmlns:gpxx="{GPXX_NS}" '
            f'xmlns:sc="{CAMERA_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{SCHEMA_LOCATION}">\n'
            f"<metadata><name>{xml_escape(title)}</name></metadata>\n")


def STRETCHES(n: int) -> str:  # noqa: N802 (the note of ``stretch_notes``)
    return ngettext("%(format)s: %(count)s section/stretch with an end point is one waypoint at its start (the end "
                    "point is only in the extension).",
                    "%(format)s: %(count)s sections/stretches with an end point are one waypoint at their start (the "
                    "end point is only in the extension).", n)


def notes_for(options: ExportOptions, stretches: int, unit: str = "kmh", other: int = 0) -> list[str]:
    """The notes of an export with ``stretches`` sections/stretches with an end point, whose
    '@' numbers are in ``unit`` (``other``: cameras from countries of the other unit)."""
    notes = [units.at_speed_note("GPX", unit, other),
             # Translators: %(proximity)s is a phrase such as "at 450 m"
             gettext("GPX: every camera carries a proximity alert distance (Garmin proximity extension, used by "
                     "Garmin POI Loader) %(proximity)s.") % {"proximity": options.proximity_text()},
             gettext("GPX: devices ignore the heading, so alerts are not direction-aware; the heading is kept in an "
                     "extension for re-import only.")]
    return notes + stretch_notes(None, "GPX", STRETCHES, stretches)


def row_maker(cams: CameraSet, options: ExportOptions):
    """``make(idx, slug, title)``: the pieces of the waypoints of rows ``idx`` of category
    (``slug``, ``title``), for ``textrows.write_rows``; the writer and the size model both
    build their waypoints with it."""
    # '<name>..</name><cmt>..</cmt>' per distinct (type, speed, truck speed, road), made for the
    # rows of each chunk (``ChunkTexts``): no table of all of them when every camera has its road

    def build_labels(rows):
        reps = rows_of(cams, rows, ("type", "speed", "truck_speed", "road"))
        # no "@" but our speed marker: POI Loader and GPSBabel read the first "@" of a name
        reps.columns["road"] = np.asarray(list(map(road_for_name, reps["road"].tolist())), dtype=object)
        names = texts(poi_names(reps, speed_marker="@"), xml_escape, "<name>", "</name><cmt>", always=True)
        codes, first = group_codes(reps["type"], reps["speed"], reps["truck_speed"])  # few: a comment each
        comments = np.asarray([xml_escape(describe_type(t, sp, ts)) + "</cmt>" for t, sp, ts in
                               zip(reps["type"][first].tolist(), reps["speed"][first].tolist(),
                                   reps["truck_speed"][first].tolist())], dtype=object)
        return list(map(str.__add__, names, comments[codes].tolist()))

    labels = ChunkTexts((cams["type"], cams["speed"], cams["truck_speed"], cams["road"]), build_labels)
    attr_codes, attrs, attr_speeds = camera_attributes(cams)
    # the alert distance per attribute code (its speed limit sets it)
    attr_zones = np.zeros(len(attrs), dtype=np.int64)  # zone length per code (one per code, 0 = none)
    attr_zones[attr_codes] = zone_lengths_of(cams)
    proximity = options.proximity_for(attr_speeds, zone_m=attr_zones).tolist()
    lat, lon, heading, end_lat, end_lon = (cams[c] for c in ("lat", "lon", "heading", "end_lat", "end_lon"))
    description, ids = cams["description"], cams["id"]
    descriptions = ChunkTexts((description,), lambda rows: texts(description[rows], xml_escape, "<desc>", "</desc>"))
    middles = {}
    # the numbers' digits are worked out once for all rows (``NumberColumn``), picked per chunk
    lat_text = NumberColumn(lat, 6, prefix='<wpt lat="', suffix='" lon="')
    lon_text = NumberColumn(lon, 6, suffix='">')
    id_text = NumberColumn(ids)
    heading_text = NumberColumn(heading, 2, trim=True, prefix='" heading="')
    # end points (stretches only): worked out once for all of them, as ``number_pairs`` writes them
    end_lat64, end_lon64 = np.asarray(end_lat, np.float64), np.asarray(end_lon, np.float64)
    has_end = ~np.isnan(end_lat64) & ~np.isnan(end_lon64)
    end_rows = np.flatnonzero(has_end)
    end_at = np.full(len(has_end), -1, np.int64)
    end_at[end_rows] = np.arange(len(end_rows))
    end_texts = [NumberColumn(end_lat64[end_rows], 6, prefix='" end_lat="', suffix='" end_lon="'),
                 NumberColumn(end_lon64[end_rows], 6)]

    def end_points(idx):
        out = [""] * len(idx)
        lines = np.flatnonzero(has_end[idx])
        if len(lines):
            at = end_at[idx[lines]]
            for k, text in zip(lines.tolist(), map("".join, zip(*(p for col in end_texts for p in col(at))))):
                out[k] = text
        return out

    def make(idx, slug, title):
        middle = middles.get(slug)
        if middle is None:
            symbol = CATEGORY_SYMBOLS.get(slug, "Waypoint")
            text = (f"<sym>{xml_escape(symbol)}</sym><type>{xml_escape(title)}</type>"
                    f"<extensions><gpxx:WaypointExtension><gpxx:Proximity>")
            middle = middles[slug] = np.asarray(
                [f"{text}{metres}</gpxx:Proximity></gpxx:WaypointExtension><sc:camera {a}"
                 for metres, a in zip(proximity, attrs.tolist())], dtype=object)
        return [*lat_text(idx), *lon_text(idx), labels(idx), descriptions(idx),
                middle[attr_codes[idx]].tolist(), *id_text(idx), *heading_text(idx),
                end_points(idx),
                '"/></extensions></wpt>\n']

    return make


# ---------------------------------------------------------------------------------------
# The plugin


@register
class GpxExporter(Exporter):
    identifier = "gpx"
    verbose_name = gettext_noop("GPX 1.1 waypoints (Garmin POI Loader, car head units, apps)")
    file_extension = ".gpx"
    encoding = "utf-8"
    max_name_length = None
    direction_aware = False
    speed_carried_as = "name"
    speed_in_names = "file"  # the "@" number, one unit per export
    mobile_supported = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams, unit, other = units.file_unit_cameras(select(cameras, options), options)
        check_positions(cams, "GPX")
        make = row_maker(cams, options)
        files = []
        for cat in categories(cams, by_speed=False):
            files.append(text_file(f"{cat.title}.gpx",
                                   [file_header(cat.title),
                                    lambda out, cat=cat: write_rows(out, cat.index,
                                                                    lambda i: make(i, cat.slug, cat.title)),
                                    FOOT],
                                   options, cat.slug, len(cat.index)))
        stretches = int(has_end_point(cams).sum())
        return RenderResult(files=files, skipped={}, notes=notes_for(options, stretches, unit, int(other.sum())))

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        cams, index = select_index(cameras, options)
        cams, unit, other = units.file_unit_cameras(cams, options)
        make = row_maker(cams, options)
        cats, group = category_groups(cams, by_speed=False)
        record_bytes = np.zeros(len(cams), np.int64)
        for cat in cats:
            record_bytes[cat.index] = row_sizes(cat.index, lambda i, cat=cat: make(i, cat.slug, cat.title))
        frames = [encoded_size(file_header(cat.title)) + encoded_size(FOOT) for cat in cats]

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            files = [sizing.FileSize(f"{cat.title}.gpx", cat.slug, int(count), frames[g] + int(size))
                     for g, (cat, count, size) in enumerate(zip(cats, tally.counts, tally.bytes)) if count]
            return sizing.SizedExport(files, {}, notes_for(options, tally.flags["stretches"], unit,
                                                           tally.flags["other_unit"]))

        model = grouped_model(cameras, cams, index, group, record_bytes, len(cats), layout,
                              flags={"stretches": has_end_point(cams), "other_unit": other},
                              check=lambda subset: check_positions(subset, "GPX"), errors=position_errors(cams))
        if options.speed_unit != "auto":
            return model
        return units.FileUnitSizes(model, cameras, options, unit,
                                   lambda mask: sizing.rendered_sizes(self, cameras, options, mask))
