"""KML 2.2: one document, styled by camera kind and speed, foldered by country (identifiers
``kml`` and ``kmz``).

Two plugins write the same document:

- ``kmz`` (Google Earth, Google My Maps, Organic Maps): one file, ``speedcams.kmz``, a ZIP
  archive holding ``doc.kml`` (first entry, at the root) and the icons ``icons/<style>.png``
  that the document references by relative href, so the icons travel with the document
  (a loose .kml shows default pins once it is moved away from its icons folder);
- ``kml`` (software that takes only a plain .kml; no catalog device uses it now, the
  Blaupunkt TravelPilot gets its own lists from ``blaupunkt-kml``): ``speedcams.kml`` and the loose
  ``icons/<style>.png`` files next to it, with the same relative hrefs.

Layout of the document (docs/formats/kml.md), children in the order of the OGC KML 2.2
schema (``ogckml22.xsd``: a Document's Feature elements, ``name`` ... ``StyleSelector``,
come before its ``Schema`` elements, then the features)::

    <Document> <name>,
      one <Style> per icon in use (drawn by exporters.icons, sorted by id), a line style for
      stretches, then a <Schema id="camera"> declaring the ExtendedData fields,
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

The KMZ stores its entries without compression (ZIP method 0, "stored"): its size is then
known exactly before it is written (``size_model``), writing it costs no deflate pass, and
the package zip that carries it compresses it once. Every entry is dated 1980-01-01 with
fixed permissions, so the same cameras give the same bytes. Entries are limited to 2 GiB
each (no ZIP64), far above any coverage.

With the ``fr-danger`` icon set, cameras in France use the danger sign. Written
column-wise (``exporters.textrows``); no timestamps, same input -> same bytes.
"""

from __future__ import annotations

import io
import os
import tempfile
from functools import lru_cache

import numpy as np

from exporters import sizing
from exporters.base import CameraSet, Exporter, ExportOptions, OutputFile, RenderResult, register
from exporters.common import poi_names, select, select_index
from exporters.icons import draw_icon, parse_category
from exporters.schema import DirectionMode, Kind
from exporters.units import shown_speeds, unit_columns
from exporters.textrows import (ChunkTexts, NumberColumn, OutputBuffer, factorize, group_codes, row_sizes,
                        texts, write_parts, write_rows, xml_escape, xml_escape_invalid)
from exporters.bulk import rows_of
from exporters.interchange import (DIRECTION_WORDS, check_positions, directions, encoded_size, grouped_model, has_end_point,
                           kind_differs, position_errors, stretch_notes, text_file, type_slugs)
from exporters.i18n import gettext, gettext_noop, ngettext
from exporters.zipfiles import ZipWriter

KML_NS = "http://www.opengis.net/kml/2.2"
FILE_NAME = "speedcams.kml"
KMZ_NAME = "speedcams.kmz"
DOC_NAME = "doc.kml"  # the document inside the KMZ (Google's name for it; the first entry)
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
    speed = np.where(shows_speed, shown_speeds(cams), 0).astype(np.int64)  # the number the sign shows
    if options.icons == "fr-danger":
        french = cams["country"] == "FR"
        # one style for all of them (a symbol of its own, no speed): not one per symbol and
        # speed, which repeated the <Style id="fr-danger"> and the file icons/fr-danger.png
        symbol = np.where(french, len(symbol_names), symbol)
        speed = np.where(french, 0, speed)
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


FOOT = "</Document>\n</kml>\n"
CLOSE_DATA = "</SimpleData></SchemaData></ExtendedData>"
def STRETCHES(n: int) -> str:  # noqa: N802 (the note of ``stretch_notes``)
    return ngettext("%(format)s: %(count)s section/stretch with an end point is drawn as a line from start to end as "
                    "well as a point at the start.",
                    "%(format)s: %(count)s sections/stretches with an end point are drawn as a line from start to end "
                    "as well as a point at the start.", n)
NOTE = gettext_noop("KML: speed, heading and direction are in each placemark's data; map apps show them but do not "
        "warn by direction (not direction-aware).")
FR_NOTE = gettext_noop("KML: cameras in France use the danger sign without a speed number.")


def document_head(style_ids) -> str:
    """The document up to the first folder: its name, a <Style> per id (sorted), the stretch
    style, then the <Schema> (KML 2.2 order: StyleSelector elements before Schema)."""
    styles = "".join(style_text(sid) for sid in sorted(style_ids))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="{KML_NS}">\n<Document>\n'
            f"<name>Speed cameras</name>\n{styles}{STRETCH_STYLE}\n{SCHEMA}\n")


def style_text(sid: str) -> str:
    return (f'<Style id="{xml_escape(sid)}"><IconStyle><Icon><href>icons/{xml_escape(sid)}.png</href>'
            f"</Icon></IconStyle></Style>\n")


def folder_frame(folder: str) -> tuple[str, str]:
    return f"<Folder><name>{xml_escape(folder)}</name>\n", "</Folder>\n"


def notes_for(options: ExportOptions, stretches: int, french: int) -> list[str]:
    notes = [gettext(NOTE)] + stretch_notes(None, "KML", STRETCHES, stretches)
    if options.icons == "fr-danger" and french:
        notes.append(gettext(FR_NOTE))
    return notes


@lru_cache(maxsize=512)
def icon_png(spec: tuple) -> bytes:
    """The PNG of a style's icon, encoded once per process (as ``draw_icon`` draws it once)."""
    symbol, speed, icon_set = spec
    return _png(draw_icon(symbol, speed, ICON_SIZE, icon_set))


class Placemarks:
    """The placemarks of ``cams`` (selected, in id order): ``make(idx)`` gives the pieces of
    rows ``idx`` (``textrows.write_rows``); ``style_codes`` / ``style_ids`` / ``style_specs``
    are those of ``icon_styles``. The writer and the size model both build placemarks here."""

    def __init__(self, cams: CameraSet, options: ExportOptions):
        self.style_codes, self.style_ids, self.style_specs = icon_styles(cams, options)
        ext_codes, ext_styled, ext_plain = extended_data(cams, self.style_codes, self.style_ids)
        ext_styled = np.asarray(ext_styled, dtype=object)
        ext_plain = np.asarray(ext_plain, dtype=object)
        lat, lon, heading, end_lat, end_lon = (cams[c] for c in ("lat", "lon", "heading", "end_lat", "end_lon"))
        description, ids = cams["description"], cams["id"]
        has_end = ~np.isnan(end_lat) & ~np.isnan(end_lon)

        # Everything per row is made from the rows of the chunk alone, the names once per
        # distinct (type, speed, unit, road) and the descriptions once per distinct text
        # (``ChunkTexts``): with a million distinct roads no table of all names exists, and any
        # chunking gives the same bytes.
        def names_of(rows):
            return texts(poi_names(rows_of(cams, rows)), xml_escape, "<Placemark><name>", "</name>", always=True)

        names = ChunkTexts((cams["type"], cams["speed"], *unit_columns(cams), cams["road"]), names_of)
        descriptions = ChunkTexts((description,), lambda rows: texts(description[rows], html_in_xml,
                                                                     "<description>", "</description>"))

        # the numbers' digits are worked out once for all rows (``NumberColumn``), picked per chunk
        id_text = NumberColumn(ids)
        heading_text = NumberColumn(heading, 2, trim=True, prefix='</SimpleData><SimpleData name="heading">')
        lon_text = NumberColumn(lon, 6, prefix=CLOSE_DATA + "<Point><coordinates>", suffix=",")
        lat_text = NumberColumn(lat, 6, suffix="</coordinates></Point></Placemark>\n")

        # a stretch's line placemark: its coordinates worked out once for all stretches, as
        # ``number_pairs`` writes them (nothing for a pair with a missing value)
        stretch_rows = np.flatnonzero(has_end)
        stretch_at = np.full(len(has_end), -1, np.int64)
        stretch_at[stretch_rows] = np.arange(len(stretch_rows))
        s_lon, s_lat, s_end_lon, s_end_lat = (col[stretch_rows].astype(np.float64)
                                              for col in (lon, lat, end_lon, end_lat))
        start_ok = ~np.isnan(s_lon) & ~np.isnan(s_lat)
        end_ok = ~np.isnan(s_end_lon) & ~np.isnan(s_end_lat)
        line_coords = [NumberColumn(s_lon, 6, suffix=",", when=start_ok),
                       NumberColumn(s_lat, 6, suffix=" ", when=start_ok),
                       NumberColumn(s_end_lon, 6, suffix=",", when=end_ok), NumberColumn(s_end_lat, 6, when=end_ok)]

        def make(idx):
            start_piece = names(idx)
            descs = descriptions(idx)
            ext_rows = ext_codes[idx]
            id_pieces, heading_pieces = id_text(idx), heading_text(idx)
            lines = np.flatnonzero(has_end[idx])
            if len(lines):
                # a stretch starts with its LineString placemark, then its point placemark: the
                # line is put in front of the point's name piece (no extra piece per row); its
                # description, ref and heading are those of the point
                at = stretch_at[idx[lines]]
                ks = lines.tolist()
                m = len(ks)
                own = [[piece[k] for k in ks] for piece in (start_piece, descs)]
                columns = [*own, ["<styleUrl>#stretch</styleUrl>"] * m, ext_plain[ext_rows[lines]].tolist(),
                           *([piece[k] for k in ks] for piece in (*id_pieces, *heading_pieces)),
                           [CLOSE_DATA + "<LineString><coordinates>"] * m,
                           *(piece for coords in line_coords for piece in coords(at)),
                           ["</coordinates></LineString></Placemark>\n"] * m, own[0]]
                for k, text in zip(ks, map("".join, zip(*columns))):
                    start_piece[k] = text
            return [start_piece, descs, ext_styled[ext_rows].tolist(), *id_pieces, *heading_pieces,
                    *lon_text(idx), *lat_text(idx)]

        self.make = make


class Document:
    """The KML document of ``cameras``: ``parts`` (strings and writer callbacks, for
    ``textrows.write_parts``), ``icons`` ((file name, PNG bytes) per style in use, sorted),
    ``count`` (cameras) and ``notes``. Both plugins write it."""

    def __init__(self, cameras: CameraSet, options: ExportOptions):
        cams = select(cameras, options)
        check_positions(cams, "KML")
        marks = Placemarks(cams, options)
        make = marks.make
        parts = [document_head(marks.style_ids)]
        for folder, rows in country_groups(cams["country"]):
            before, after = folder_frame(folder)
            parts.append(before)
            parts.append(lambda out, rows=rows: write_rows(out, rows, make))
            parts.append(after)
        parts.append(FOOT)
        self.parts, self.count = parts, len(cams)
        self.icons = [(f"icons/{sid}.png", icon_png(spec)) for sid, spec in sorted(zip(marks.style_ids,
                                                                                          marks.style_specs))]
        french = int((cams["country"] == "FR").sum()) if options.icons == "fr-danger" else 0
        self.notes = notes_for(options, int(has_end_point(cams).sum()), french)


class DocumentSizes:
    """What ``Document`` would hold for any subset of ``cameras``: ``model(layout)`` is the
    size model, ``layout(doc_bytes, icons, count, notes)`` turning the document's byte size,
    its icons ((name, PNG size) in file order), its cameras and notes into the plugin's files."""

    def __init__(self, cameras: CameraSet, options: ExportOptions):
        self.cameras, self.options = cameras, options

    def model(self, files) -> sizing.SizeModel:
        cameras, options = self.cameras, self.options
        cams, index = select_index(cameras, options)
        marks = Placemarks(cams, options)
        record_bytes = row_sizes(np.arange(len(cams)), marks.make)
        # a group per (country, style): the folders and the styles (and icons) in use follow from its counts
        country_codes, countries = factorize(cams["country"])
        group, first = group_codes(country_codes, marks.style_codes)
        group_country = country_codes[first].astype(np.int64) if len(first) else np.zeros(0, np.int64)
        group_style = marks.style_codes[first].astype(np.int64) if len(first) else np.zeros(0, np.int64)
        folder_bytes = np.asarray([sum(map(encoded_size, folder_frame(str(c) if c else UNKNOWN_COUNTRY)))
                                   for c in countries], dtype=np.int64)
        n_styles = len(marks.style_ids)
        style_bytes = np.asarray([encoded_size(style_text(sid)) for sid in marks.style_ids], dtype=np.int64)
        file_order = sorted(range(n_styles), key=lambda s: (marks.style_ids[s], marks.style_specs[s]))
        icon_files = [(s, f"icons/{marks.style_ids[s]}.png", len(icon_png(marks.style_specs[s]))) for s in file_order]
        frame = encoded_size(document_head([])) + encoded_size(FOOT)

        def layout(tally: sizing.Tally) -> sizing.SizedExport:
            present = tally.counts > 0
            countries_in = np.bincount(group_country[present], minlength=len(countries)) > 0
            styles_in = np.bincount(group_style[present], minlength=n_styles) > 0
            size = (frame + int(style_bytes[styles_in].sum()) + int(folder_bytes[countries_in].sum())
                    + int(tally.bytes.sum()))
            icons = [(name, png) for s, name, png in icon_files if styles_in[s]]
            notes = notes_for(options, tally.flags["stretches"], tally.flags["french"])
            return sizing.SizedExport(files(size, icons, int(tally.counts.sum())), {}, notes)

        return grouped_model(cameras, cams, index, group, record_bytes, len(first), layout,
                             flags={"stretches": has_end_point(cams), "french": cams["country"] == "FR"},
                             check=lambda subset: check_positions(subset, "KML"), errors=position_errors(cams))


@register
class KmlExporter(Exporter):
    """A plain ``speedcams.kml`` with its icons as loose files (``icons/<style>.png``)."""

    identifier = "kml"
    verbose_name = gettext_noop("KML 2.2, plain .kml with loose icons (software that takes only .kml)")
    file_extension = ".kml"
    encoding = "utf-8"
    max_name_length = None
    direction_aware = False
    speed_carried_as = "field"
    mobile_supported = True

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        doc = Document(cameras, options)
        files = [text_file(FILE_NAME, doc.parts, options, "all", doc.count)]
        files += [OutputFile(name, png) for name, png in doc.icons]
        return RenderResult(files=files, skipped={}, notes=doc.notes)

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        def files(doc_bytes, icons, count):
            return ([sizing.FileSize(FILE_NAME, "all", count, doc_bytes)]
                    + [sizing.FileSize(name, "", 0, png) for name, png in icons])

        return DocumentSizes(cameras, options).model(files)


# ---------------------------------------------------------------------------------------
# KMZ: the document and its icons in one ZIP archive (stored entries)


def write_kmz(fh, doc: Document) -> None:
    """The KMZ archive of ``doc`` into ``fh`` (a seekable binary file): ``doc.kml`` first,
    streamed, then the icons, every entry stored: the bytes ``zipfile.ZipFile(fh, "w",
    ZIP_STORED)`` writes for them (``exporters.zipfiles``, with zlib-ng's CRC-32 of the 80 MB
    document; tests compare the two)."""
    with ZipWriter(fh) as zw:
        zw.add(DOC_NAME, lambda out: write_parts(out, doc.parts), deflate=False)
        for name, png in doc.icons:
            zw.add(name, png, deflate=False)


def kmz_size(doc_bytes: int, icons: list[tuple[str, int]]) -> int:
    """Bytes of the KMZ ``write_kmz`` writes: per entry a local header (30 bytes + name)
    before the data and a central directory record (46 bytes + name), then the 22-byte end
    record (APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16; no extra fields, no comment, no ZIP64)."""
    entries = [(DOC_NAME, doc_bytes), *icons]
    return sum(30 + 46 + 2 * len(name.encode("utf-8")) + size for name, size in entries) + 22


def kmz_file(doc: Document, options: ExportOptions) -> OutputFile:
    """``speedcams.kmz`` in memory, or written straight to a file of ``options.spool_dir``
    (a real file, seekable as the in-memory buffer is: the bytes are the same)."""
    if options.spool_dir is None:
        buf = OutputBuffer()
        write_kmz(buf, doc)
        return OutputFile(KMZ_NAME, buf.getvalue(), "all", doc.count)
    fd, path = tempfile.mkstemp(prefix="spool-", suffix=".kmz", dir=options.spool_dir)
    try:
        with open(fd, "w+b") as fh:
            write_kmz(fh, doc)
    except BaseException:
        os.unlink(path)
        raise
    return OutputFile(KMZ_NAME, None, "all", doc.count, path=path)


@register
class KmzExporter(KmlExporter):
    """``speedcams.kmz``: ``doc.kml`` and its icons in one archive (see the module docstring)."""

    identifier = "kmz"
    verbose_name = gettext_noop("KMZ (KML 2.2 with its icons: Google Earth, Google My Maps, Organic Maps)")
    file_extension = ".kmz"

    def render(self, cameras: CameraSet, options: ExportOptions) -> RenderResult:
        doc = Document(cameras, options)
        return RenderResult(files=[kmz_file(doc, options)], skipped={}, notes=doc.notes)

    def size_model(self, cameras: CameraSet, options: ExportOptions) -> sizing.SizeModel:
        def files(doc_bytes, icons, count):
            return [sizing.FileSize(KMZ_NAME, "all", count, kmz_size(doc_bytes, icons))]

        return DocumentSizes(cameras, options).model(files)
