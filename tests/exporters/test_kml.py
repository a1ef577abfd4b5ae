"""KML 2.2 export (plain KML and KMZ): structure checked with ElementTree and against the
KML 2.2 schema order, read back with GPSBabel and our own reader."""

import html
import io
import math
import xml.etree.ElementTree as ET
import zipfile

import pytest
from PIL import Image

from cameras.formats import get_reader
from cameras.formats.base import Record
from exporters.base import CameraSet, ExportOptions, get_exporter
from exporters.plugins.kml import kmz_size

from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras, scaled_cameras
from tests.exporters.interchange import (assert_babel_positions, assert_record_matches, assert_same_bytes_in_any_order, check_golden,
                          expected_rows, export, gpsbabel_read_file, gpsbabel_unicsv, sample_name, written)

K = "{http://www.opengis.net/kml/2.2}"

# ---------------------------------------------------------------------------------------
# The child order of the OGC KML 2.2 schema (ogckml22.xsd, schemas.opengis.net/kml/2.2.0/),
# written here from the schema for the elements the exporter uses (docs/formats/kml.md):
# per element, the sequence of its children. A tuple is one slot: the members of a
# substitution group (AbstractFeatureGroup, AbstractStyleSelectorGroup, ...) or a choice.
# Feature elements (AbstractFeatureType): Document, Folder and Placemark begin with them.
FEATURE = ("name", "visibility", "open", "author", "link", "address", "AddressDetails", "phoneNumber",
           ("Snippet", "snippet"), "description", ("Camera", "LookAt"), ("TimeStamp", "TimeSpan"), "styleUrl",
           ("Style", "StyleMap"), "Region", ("Metadata", "ExtendedData"))
FEATURES = ("Placemark", "Folder", "Document", "NetworkLink", "GroundOverlay", "ScreenOverlay", "PhotoOverlay")
GEOMETRY = ("Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Model")
KML22_ORDER = {
    "kml": ("NetworkLinkControl", FEATURES),
    "Document": FEATURE + ("Schema", FEATURES),          # DocumentType: Schema*, then AbstractFeatureGroup*
    "Folder": FEATURE + (FEATURES,),
    "Placemark": FEATURE + (GEOMETRY,),
    "Style": ("IconStyle", "LabelStyle", "LineStyle", "PolyStyle", "BalloonStyle", "ListStyle"),
    "IconStyle": ("color", "colorMode", "scale", "heading", "Icon", "hotSpot"),
    "Icon": ("href",),                                   # BasicLinkType inside IconStyle
    "LineStyle": ("color", "colorMode", "width"),
    "Schema": ("SimpleField",),
    "SimpleField": ("displayName",),
    "ExtendedData": ("Data", "SchemaData"),
    "SchemaData": ("SimpleData",),
    "Point": ("extrude", "altitudeMode", "coordinates"),
    "LineString": ("extrude", "tessellate", "altitudeMode", "coordinates"),
}
# Slots the schema lets repeat (maxOccurs="unbounded"); every other slot occurs at most once.
REPEATING = {("Style", "StyleMap"), "Schema", FEATURES, "SimpleField", "Data", "SchemaData", "SimpleData"}


def schema_order_errors(root) -> list[str]:
    """Where the document leaves the KML 2.2 order: an unknown child, a child before one that
    the schema puts earlier, a slot repeated that may occur once, or children inside a
    simple element."""
    errors = []
    for parent in root.iter():
        tag = parent.tag.replace(K, "")
        children = [c.tag.replace(K, "") for c in parent]
        if tag not in KML22_ORDER:
            if children:
                errors.append(f"<{tag}> has children {children} but holds text only here")
            continue
        slots = KML22_ORDER[tag]
        index = {name: i for i, slot in enumerate(slots) for name in (slot if isinstance(slot, tuple) else (slot,))}
        last, seen = -1, set()
        for child in children:
            if child not in index:
                errors.append(f"<{child}> is not a child of <{tag}> in KML 2.2")
                continue
            i = index[child]
            if i < last:
                errors.append(f"<{child}> after <{children[children.index(child) - 1]}> in <{tag}>: the schema "
                              f"puts {slots[i]} before {slots[last]}")
            if i in seen and slots[i] not in REPEATING:
                errors.append(f"<{child}> twice in <{tag}>")
            seen.add(i)
            last = max(last, i)
    return errors


def kml_of(cameras=None, **options):
    result = export("kml", cameras, **options)
    return result, result.files[0].data


def kml_file(cameras=None, **options):
    """The exported KML (without its icons)."""
    return export("kml", cameras, **options).files[0]


def tree(**options):
    return ET.fromstring(kml_of(**options)[1])


def data_of(placemark) -> dict:
    return {d.get("name"): d.text for d in placemark.iter(K + "SimpleData")}


def points(root):
    """{ref: (folder name, placemark)} for the point placemarks."""
    out = {}
    for folder in root.iter(K + "Folder"):
        for pm in folder.findall(K + "Placemark"):
            if pm.find(K + "Point") is not None:
                out[int(data_of(pm)["ref"])] = (folder.findtext(K + "name"), pm)
    return out


def test_it_writes_one_kml_with_a_png_icon_per_style():
    result, data = kml_of(mobile=True)
    assert result.files[0].name == "speedcams.kml" and result.files[0].count == 24
    root = ET.fromstring(data)
    hrefs = {s.get("id"): s.findtext(f"{K}IconStyle/{K}Icon/{K}href") for s in root.iter(K + "Style")}
    assert hrefs.pop("stretch") is None
    icons = {f.name: f.data for f in result.files[1:]}
    assert sorted(icons) == sorted(hrefs.values()) == sorted(f"icons/{sid}.png" for sid in hrefs)
    for png in icons.values():
        assert Image.open(io.BytesIO(png)).size == (32, 32)
    used = {pm.findtext(K + "styleUrl") for pm in root.iter(K + "Placemark")}
    assert used == {f"#{sid}" for sid in hrefs} | {"#stretch"}
    assert {"fixed-50", "red-light-70", "section-130", "mobile", "danger", "tunnel", "level-crossing"} <= set(hrefs)


def test_placemarks_sit_in_one_folder_per_country_sorted_and_in_id_order():
    root = tree(mobile=True)
    folders = [(f.findtext(K + "name"), [int(data_of(pm)["ref"]) for pm in f.findall(K + "Placemark")])
               for f in root.iter(K + "Folder")]
    countries = sorted({r["country"] for r in SAMPLE_ROWS})
    assert [name for name, _ in folders] == countries
    for name, refs in folders:
        expected = [r["id"] for r in expected_rows() if r["country"] == name]
        stretches = [r["id"] for r in expected_rows() if r["country"] == name and not math.isnan(r["end_lat"])]
        assert sorted(set(refs)) == expected
        assert len(refs) == len(expected) + len(stretches)  # a line placemark before each stretch
    assert dict(folders)["IT"] == [7, 7, 21]


def test_points_carry_name_description_position_and_camera_data():
    got = points(tree(mobile=True))
    assert sorted(got) == list(range(1, 25))
    for row in expected_rows():
        folder, pm = got[row["id"]]
        assert folder == row["country"]
        assert pm.findtext(K + "name") == sample_name(row["id"])
        assert html.unescape(pm.findtext(K + "description") or "") == row["description"]
        lon, lat = map(float, pm.findtext(f"{K}Point/{K}coordinates").split(","))
        assert (lat, lon) == (row["lat"], row["lon"])
        data = data_of(pm)
        assert data["type"] == row["type"].slug
        assert int(data.get("speed", 0)) == row["speed"]
        if math.isnan(row["heading"]):
            assert "heading" not in data
        else:
            assert float(data["heading"]) == pytest.approx(row["heading"], abs=0.006)
    paris = data_of(got[1][1])
    assert paris == {"type": "speed", "speed": "50", "ref": "1", "heading": "90"}  # direction one is the default
    assert data_of(got[2][1])["direction"] == "both"
    assert not any("kind" in data_of(pm) for _, pm in got.values())  # every kind is its type's default
    assert got[7][1].findtext(K + "styleUrl") == "#section-130"


def test_a_kind_that_is_not_the_type_default_is_written():
    rows = [dict(SAMPLE_ROWS[0], kind=1), dict(SAMPLE_ROWS[7], kind=0)]
    got = points(ET.fromstring(kml_of(CameraSet.from_records(rows), mobile=True)[1]))
    assert data_of(got[1][1])["kind"] == "mobile" and got[1][1].findtext(K + "styleUrl") == "#mobile"
    assert data_of(got[8][1])["kind"] == "fixed"


def test_descriptions_are_html_escaped_inside_xml_so_viewers_show_them_literally():
    _, data = kml_of()
    assert b"<description>Lyon &amp;quot;Perrache&amp;quot; &amp;amp; &amp;lt;tunnel&amp;gt;</description>" in data
    lyon = points(ET.fromstring(data))[4][1]
    assert lyon.findtext(K + "description") == "Lyon &quot;Perrache&quot; &amp; &lt;tunnel&gt;"  # HTML source
    assert lyon.findtext(K + "name") == "Red light+speed 70 A7"


def test_names_with_xml_characters_are_escaped_once():
    rows = [dict(SAMPLE_ROWS[0], road='A "B" & <C>', description="x\x01y")]
    root = ET.fromstring(kml_of(CameraSet.from_records(rows))[1])
    pm = next(root.iter(K + "Placemark"))
    assert pm.findtext(K + "name") == 'Speed 50 A "B" & <C>'
    assert pm.findtext(K + "description") == "xy"


def test_a_stretch_has_a_line_placemark_from_start_to_end_before_its_point():
    root = tree(mobile=True)
    it = [pm for pm in root.iter(K + "Placemark") if data_of(pm)["ref"] == "7"]
    assert [pm.find(K + "LineString") is not None for pm in it] == [True, False]
    line = it[0].findtext(f"{K}LineString/{K}coordinates").split()
    assert line == ["12.496366,41.902782", "12.496366,41.852782"]
    assert it[0].findtext(K + "styleUrl") == "#stretch"
    assert data_of(it[0]) == data_of(it[1])


def test_gpsbabel_reads_every_point_with_its_name_and_position(tmp_path):
    rows = gpsbabel_read_file("kml", kml_file(mobile=True), tmp_path)
    assert len(rows) == 24
    by_name = {}
    for r in rows:
        by_name.setdefault(r["Name"], []).append((float(r["Latitude"]), float(r["Longitude"])))
    for row in expected_rows():
        assert (row["lat"], row["lon"]) in [pytest.approx(p, abs=1e-6) for p in by_name[sample_name(row["id"])]]


def test_fifty_thousand_cameras_round_trip_through_gpsbabel(tmp_path):
    cams = scaled_cameras(50_000)
    rows = gpsbabel_read_file("kml", kml_file(cams, mobile=True), tmp_path)
    assert len(rows) == 50_000
    assert_babel_positions(rows, cams, tol=1e-6)


def test_our_kml_reader_re_imports_type_speed_heading_direction_and_stretch_ends(tmp_path):
    first = {}
    for rec in get_reader("kml").read(written(tmp_path, kml_file(mobile=True))):
        assert isinstance(rec, Record), rec
        first.setdefault(rec.ref, rec)  # the importer keeps the first of repeated refs
    assert len(first) == 24
    for row in expected_rows():
        rec = first[str(row["id"])]
        assert_record_matches(rec, row)
        assert rec.description == row["description"]


def test_the_french_icon_set_gives_cameras_in_france_the_danger_sign():
    result, data = kml_of(mobile=True, icons="fr-danger")
    got = points(ET.fromstring(data))
    french = {r["id"] for r in SAMPLE_ROWS if r["country"] == "FR"}
    assert {ref for ref, (_, pm) in got.items() if pm.findtext(K + "styleUrl") == "#fr-danger"} == french
    assert "icons/fr-danger.png" in [f.name for f in result.files]
    assert "danger sign" in " ".join(result.notes)


def test_the_same_cameras_in_any_order_give_the_same_bytes():
    assert_same_bytes_in_any_order("kml", scaled_cameras(3_000), seed=5)


def test_the_sample_export_matches_the_golden_file():
    check_golden("kml", "speedcams.kml", kml_of(mobile=True)[1])


# ---------------------------------------------------------------------------------------
# KML 2.2 schema order


@pytest.mark.parametrize("options", [dict(mobile=True), dict(mobile=True, icons="fr-danger"), {}])
def test_every_element_is_in_the_kml_22_schema_order(options):
    root = ET.fromstring(kml_of(**options)[1])
    assert schema_order_errors(root) == []
    document = root.find(K + "Document")
    order = [c.tag.replace(K, "") for c in document]
    first_folder = order.index("Folder")
    assert order[0] == "name" and set(order[1:first_folder - 1]) == {"Style"}
    assert order[first_folder - 1] == "Schema" and set(order[first_folder:]) == {"Folder"}


def test_the_order_check_finds_a_schema_before_the_styles():
    """The order the exporter used to write (Schema first) is what the check refuses."""
    old = ET.fromstring(f'<kml xmlns="{K[1:-1]}"><Document><name>x</name><Schema id="camera"/>'
                        f'<Style id="a"/><Folder><Placemark><Point><coordinates>1,2</coordinates></Point>'
                        f'<name>late</name></Placemark></Folder></Document></kml>')
    errors = schema_order_errors(old)
    assert len(errors) == 2
    assert errors[0].startswith("<Style> after <Schema> in <Document>")
    assert errors[1].startswith("<name> after <Point> in <Placemark>")


# ---------------------------------------------------------------------------------------
# KMZ: the document and its icons in one archive


def kmz_of(cameras=None, **options):
    result = export("kmz", cameras, **options)
    assert [(f.name, f.category) for f in result.files] == [("speedcams.kmz", "all")]
    return result, result.files[0]


def test_the_kmz_holds_doc_kml_first_and_every_icon_it_references():
    result, f = kmz_of(mobile=True)
    assert f.count == 24
    with zipfile.ZipFile(io.BytesIO(f.data)) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[0] == "doc.kml" and [n for n in names if n.endswith(".kml")] == ["doc.kml"]
        doc = zf.read("doc.kml")
        root = ET.fromstring(doc)
        hrefs = {h.text for h in root.iter(K + "href")}
        assert sorted(names[1:]) == sorted(hrefs) and len(set(names)) == len(names)  # each href an entry, no more
        assert all(not h.startswith(("/", "http", "..")) for h in hrefs)
        for name in names[1:]:
            assert Image.open(io.BytesIO(zf.read(name))).size == (32, 32)
        infos = zf.infolist()
    assert all(i.compress_type == zipfile.ZIP_STORED and i.date_time == (1980, 1, 1, 0, 0, 0) and i.flag_bits == 0
               for i in infos)
    assert doc == kml_of(mobile=True)[1]  # the same document as the plain KML
    assert schema_order_errors(root) == []
    assert result.notes == export("kml", mobile=True).notes


def test_the_kmz_size_is_the_zip_layout_of_its_entries():
    _, f = kmz_of(mobile=True)
    with zipfile.ZipFile(io.BytesIO(f.data)) as zf:
        entries = [(i.filename, i.file_size) for i in zf.infolist()]
    assert f.size == kmz_size(entries[0][1], entries[1:])
    assert f.data.startswith(b"PK\x03\x04") and f.data[30:37] == b"doc.kml"  # doc.kml: the first local header's name


def test_the_kmz_with_the_french_icon_set_carries_the_danger_sign_once():
    _, f = kmz_of(mobile=True, icons="fr-danger")
    with zipfile.ZipFile(io.BytesIO(f.data)) as zf:
        assert zf.namelist().count("icons/fr-danger.png") == 1
        root = ET.fromstring(zf.read("doc.kml"))
    french = {r["id"] for r in SAMPLE_ROWS if r["country"] == "FR"}
    assert {ref for ref, (_, pm) in points(root).items() if pm.findtext(K + "styleUrl") == "#fr-danger"} == french


def test_gpsbabel_and_our_reader_read_every_point_from_the_kmz_document(tmp_path):
    cams = scaled_cameras(20_000)
    _, f = kmz_of(cams, mobile=True)
    doc = tmp_path / "doc.kml"
    with zipfile.ZipFile(io.BytesIO(f.data)) as zf:
        doc.write_bytes(zf.read("doc.kml"))
    assert_babel_positions(gpsbabel_unicsv("kml", doc), cams, tol=1e-6)
    refs = {rec.ref for rec in get_reader("kml").read(doc) if isinstance(rec, Record)}
    assert refs == {str(i) for i in cams["id"].tolist()}


def test_a_spooled_kmz_is_the_same_bytes_on_disk(tmp_path):
    cams = scaled_cameras(3_000)
    in_memory = get_exporter("kmz").render(cams, ExportOptions(mobile=True)).files[0]
    spooled = get_exporter("kmz").render(cams, ExportOptions(mobile=True, spool_dir=str(tmp_path))).files[0]
    assert spooled.data is None and spooled.path.startswith(str(tmp_path))
    assert spooled.read_bytes() == in_memory.data and spooled.sha256 == in_memory.sha256


def test_google_earth_users_get_one_kmz_and_steps_that_name_it():
    from exporters.devices import get_device
    from exporters.package import build_package

    device = get_device("phone-kml")
    assert device.format == "kmz"
    pkg = build_package(sample_cameras(), device, ExportOptions(), release={"number": 1, "date": "2026-01-01",
                                                                           "sha256": "x"}, coverage=["world"])
    with zipfile.ZipFile(io.BytesIO(pkg.data)) as zf:
        assert zf.namelist() == ["INSTALL.txt", "manifest.json", "speedcams.kmz"]
        install = zf.read("INSTALL.txt").decode()
        with zipfile.ZipFile(io.BytesIO(zf.read("speedcams.kmz"))) as kmz:
            assert kmz.namelist()[0] == "doc.kml" and all(n.startswith("icons/") for n in kmz.namelist()[1:])
    assert "speedcams.kmz" in install and ".kml file" not in install
    assert [f["name"] for f in pkg.manifest["files"]] == ["speedcams.kmz"]


def test_the_same_cameras_in_any_order_give_the_same_kmz():
    assert_same_bytes_in_any_order("kmz", scaled_cameras(3_000), seed=5)


def test_the_sample_kmz_matches_the_golden_file():
    check_golden("kmz", "speedcams.kmz", kmz_of(mobile=True)[1].data)
