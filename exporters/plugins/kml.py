"""KML 2.2: one document, styled by camera kind and speed, foldered by country (identifier ``kml``).

Layout of ``speedcams.kml``::

    <Document> name, a <Schema id="camera"> declaring the ExtendedData fields,
      one <Style> per icon in use (icons/<style>.png, drawn by exporters.icons), a line style
      for stretches,
      one <Folder> per country (ISO code, sorted; cameras without a country last), holding
        a <Placemark> per camera, in id order: <name> ("Speed 50 A7", plain text),
        <description> (the camera's description as HTML, as KML viewers show it: escaped
        for HTML, then for XML; left out when empty), <styleUrl>, <ExtendedData><SchemaData>
        with ``type`` (slug), ``kind`` (only when not the type's default), ``speed``,
        ``truck_speed``, ``direction`` (all/one/both; only when it is not the feed CSV default,
        ``one`` with a heading and ``all`` without: 10 % less to write), ``reports`` (mobile
        zones), ``ref`` (camera id) and ``heading``,
        and <Point><coordinates>lon,lat</coordinates>;
        for a section or stretch with an end point, first a second <Placemark> with the same
        name, description and ExtendedData and a <LineString> from start to end.

The ExtendedData names and values are those of the feed CSV (docs/feed-csv.md), which the
project's own KML reader applies; because the line placemark comes first and has the same
``ref``, a re-import keeps the section with its end point and drops the point as a repeat.
Speed and heading are data only: map apps do not warn by heading (not direction-aware).

The icons are PNG files next to the KML (``icons/``), referenced by relative href, as in a
KMZ. With the ``fr-danger`` icon set, cameras in France use the danger sign.
Written column-wise (``exporters.textrows``); no timestamps, same input -> same bytes.
"""

from __future__ import annotations

import io

import numpy as np

from ..base import CameraSet, Exporter, ExportOptions, OutputFile, RenderResult, register
from ..common import poi_names, select
from ..icons import draw_icon, parse_category
from ..schema import DirectionMode, Kind
from ..textrows import (factorize, group_codes, number_pairs, number_pieces, numbers, texts, write_rows,
                        xml_escape, xml_escape_invalid)
from ._interchange import (DIRECTION_WORDS, check_positions, directions, kind_differs, stretch_notes, text_file,
                           type_slugs)

KML_NS = "http://www.opengis.net/kml/2.2"
FILE_NAME = "speedcams.kml"
ICON_SIZE = 32
SPEED_SYMBOLS = ("fixed", "red-light", "section")  # icons that show the speed
STRETCH_STYLE = '<Style id="stretch"><LineStyle><color>ff1c1ce0</color><width>4</width></LineStyle></Style>'
SCHEMA = ('<Schema name="camera" id="camera">'
          '<SimpleField name="type" type="string"/><SimpleField name="kind" type="string"/>'
          '<SimpleField name="speed" type="int"/><SimpleField name="truck_speed" type="int"/>'
          '<SimpleField name="direction" type="string"/><SimpleField name="ref" type="string"/>'
          '<SimpleField name="heading" type="float"/><SimpleField name="reports" type="int"/></Schema>')
UNKNOWN_COUNTRY = "Unknown country"


def html_in_xml(text: str) -> str:
    """Text for a KML <description>, which viewers render as HTML: escaped for HTML (so
    "<tunnel>" shows as such instead of vanishing as a tag), then for XML. The same as
    ``xml_escape(xml_escape(text))`` in one pass of replacements."""
    text = xml_escape_invalid(text)
    for raw, entity in (("&", "&amp;amp;"), ("<", "&amp;lt;"), (">", "&amp;gt;"), ('"', "&amp;quot;"),
                        ("\r", "&amp;#13;")):
        if raw in text:
            text = text.replace(raw, entity)
    return text


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def icon_styles(cams: CameraSet, options: ExportOptions) -> tuple[np.ndarray, list[str], list[tuple]]:
    """(style code per camera, style ids, (symbol, speed, icon set) per style).

    A style per icon: the symbol of the camera type (``icons.parse_category``; mobile cameras
    the mobile symbol) and, for symbols that show it, the speed.
    """
    slugs = type_slugs()
    symbol_names = sorted({parse_category(slug)[0] for slug in slugs if slug} | {"mobile", "other"})
    symbol_index = {name: i for i, name in enumerate(symbol_names)}
    table = np.full(len(slugs), symbol_index["other"], np.int64)
    for code, slug in enumerate(slugs):
        if slug:
            table[code] = symbol_index[parse_category(slug)[0]]
    types = cams["type"].astype(np.int64)
    known = (types >= 0) & (types < len(slugs))
    symbol = np.full(len(types), symbol_index["other"], np.int64)
    symbol[known] = table[types[known]]
    symbol[cams["kind"] == Kind.MOBILE] = symbol_index["mobile"]
    shows_speed = np.isin(symbol, [symbol_index[s] for s in SPEED_SYMBOLS if s in symbol_index])
    speed = np.where(shows_speed, cams["speed"], 0).astype(np.int64)
    if options.icons == "fr-danger":
        french = cams["country"] == "FR"
    else:
        french = np.zeros(len(types), bool)
    codes, first = group_codes(symbol, speed, french)
    ids, specs = [], []
    for i in first.tolist():
        if french[i]:
            ids.append("fr-danger")
            specs.append(("danger", 0, "fr-danger"))
        else:
            sym, sp = symbol_names[symbol[i]], int(speed[i])
            ids.append(f"{sym}-{sp}" if sp else sym)
            specs.append((sym, sp, "speed"))
    return codes, ids, specs


def extended_data(cams: CameraSet, style_codes: np.ndarray,
                  style_ids: list[str]) -> tuple[np.ndarray, list[str], list[str]]:
    """(code per camera, '<styleUrl>..<ExtendedData>..<SimpleData name="ref">' per code, the
    same without the styleUrl), for the fields that take few distinct values."""
    has_heading, mode = directions(cams)
    odd_kind = kind_differs(cams)
    codes, first = group_codes(style_codes, cams["type"], cams["speed"], cams["truck_speed"], mode, has_heading,
                               odd_kind, cams["reports"])
    slugs = type_slugs()
    with_style, plain = [], []
    for t, k, sp, ts, m, head, odd, rep, style in zip(
            *(cams[c][first].tolist() for c in ("type", "kind", "speed", "truck_speed")), mode[first].tolist(),
            has_heading[first].tolist(), odd_kind[first].tolist(), cams["reports"][first].tolist(),
            style_codes[first].tolist()):
        text = ('<ExtendedData><SchemaData schemaUrl="#camera">'
                f'<SimpleData name="type">{slugs[t] if 0 <= t < len(slugs) and slugs[t] else t}</SimpleData>')
        if odd:
            text += f'<SimpleData name="kind">{"mobile" if k == Kind.MOBILE else "fixed"}</SimpleData>'
        if sp > 0:
            text += f'<SimpleData name="speed">{sp}</SimpleData>'
        if ts > 0:
            text += f'<SimpleData name="truck_speed">{ts}</SimpleData>'
        if m != (DirectionMode.ONE if head else DirectionMode.ALL):  # the feed CSV default otherwise
            text += f'<SimpleData name="direction">{DIRECTION_WORDS.get(m, "all")}</SimpleData>'
        if rep > 0:
            text += f'<SimpleData name="reports">{rep}</SimpleData>'
        text += '<SimpleData name="ref">'
        plain.append(text)
        with_style.append(f"<styleUrl>#{style_ids[style]}</styleUrl>" + text)
    return codes, with_style, plain


def country_groups(countries: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(folder name, row indices in id order) per country, sorted; no country last."""
    codes, values = factorize(countries)
    groups = []
    for code, value in sorted(enumerate(values), key=lambda cv: (cv[1] in ("", None), str(cv[1] or ""))):
        groups.append((str(value) if value else UNKNOWN_COUNTRY, np.flatnonzero(codes == code)))
    return groups


@register
class KmlExporter(Exporter):
    identifier = "kml"
    verbose_name = "KML 2.2 (Google Earth, Organic Maps, OsmAnd, Blaupunkt TPAssist)"
    file_extension = ".kml"
    encoding = "utf-8"
    max_name_length = None
    direction_aware = False
    speed_carried_as = "field"
    mobile_supported = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        cams = select(cameras, options)
        check_positions(cams, "KML")
        style_codes, style_ids, style_specs = icon_styles(cams, options)
        ext_codes, ext_styled, ext_plain = extended_data(cams, style_codes, style_ids)
        del style_codes
        ext_styled = np.asarray(ext_styled, dtype=object)
        ext_plain = np.asarray(ext_plain, dtype=object)
        road_codes, _ = factorize(cams["road"])
        name_codes, first = group_codes(cams["type"], cams["speed"], road_codes)
        del road_codes
        names = np.asarray([f"<Placemark><name>{n}</name>" for n in texts(poi_names(cams.take(first)), xml_escape)],
                           dtype=object)
        lat, lon, heading, end_lat, end_lon = (cams[c] for c in ("lat", "lon", "heading", "end_lat", "end_lon"))
        description, ids = cams["description"], cams["id"]
        has_end = ~np.isnan(end_lat) & ~np.isnan(end_lon)
        close_data = "</SimpleData></SchemaData></ExtendedData>"

        # a stretch starts with its LineString placemark, then its point placemark: the line is
        # put in front of the point's name piece (stretches are few; no extra piece per row)
        stretch = np.flatnonzero(has_end)
        line_and_name = {}
        if len(stretch):
            ref = numbers(ids[stretch])
            head = numbers(heading[stretch], 2, trim=True, prefix='</SimpleData><SimpleData name="heading">')
            start = number_pairs(lon[stretch], lat[stretch], 6, middle=",", suffix=" ")
            end = number_pairs(end_lon[stretch], end_lat[stretch], 6, middle=",")
            descs = texts(description[stretch], html_in_xml, "<description>", "</description>")
            line_and_name = dict(zip(stretch.tolist(), [
                f"{n}{d}<styleUrl>#stretch</styleUrl>{e}{r}{h}{close_data}<LineString><coordinates>{a}{b}"
                f"</coordinates></LineString></Placemark>\n{n}"
                for n, d, e, r, h, a, b in zip(names[name_codes[stretch]].tolist(), descs,
                                               ext_plain[ext_codes[stretch]].tolist(), ref, head, start, end)]))

        def make(idx):
            name = names[name_codes[idx]]
            lines = np.flatnonzero(has_end[idx])
            if len(lines):
                name[lines] = [line_and_name[row] for row in idx[lines].tolist()]
            return [name.tolist(), texts(description[idx], html_in_xml, "<description>", "</description>"),
                    ext_styled[ext_codes[idx]].tolist(), *number_pieces(ids[idx]),
                    *number_pieces(heading[idx], 2, trim=True, prefix='</SimpleData><SimpleData name="heading">'),
                    *number_pieces(lon[idx], 6, prefix=close_data + "<Point><coordinates>", suffix=","),
                    *number_pieces(lat[idx], 6, suffix="</coordinates></Point></Placemark>\n")]

        styles = "".join(f'<Style id="{xml_escape(sid)}"><IconStyle><Icon><href>icons/{xml_escape(sid)}.png</href>'
                         f"</Icon></IconStyle></Style>\n" for sid in sorted(style_ids))
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="{KML_NS}">\n<Document>\n'
                 f"<name>Speed cameras</name>\n{SCHEMA}\n{styles}{STRETCH_STYLE}\n"]
        for folder, rows in country_groups(cams["country"]):
            parts.append(f"<Folder><name>{xml_escape(folder)}</name>\n")
            parts.append(lambda out, rows=rows: write_rows(out, rows, make))
            parts.append("</Folder>\n")
        parts.append("</Document>\n</kml>\n")
        files = [text_file(FILE_NAME, parts, options, "all", len(cams))]
        for sid, (symbol, speed, icon_set) in sorted(zip(style_ids, style_specs)):
            files.append(OutputFile(f"icons/{sid}.png", _png(draw_icon(symbol, speed, ICON_SIZE, icon_set))))

        notes = ["KML: speed, heading and direction are in each placemark's data; map apps show them but do not "
                 "warn by direction (not direction-aware)."]
        notes += stretch_notes(cams, "KML", "are drawn as a line from start to end as well as a point at the start")
        if options.icons == "fr-danger" and (cams["country"] == "FR").any():
            notes.append("KML: cameras in France use the danger sign without a speed number.")
        return RenderResult(files=files, skipped={}, notes=notes)
