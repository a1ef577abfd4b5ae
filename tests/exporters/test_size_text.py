"""The text formats (CSV, GeoJSON, GPX, KML, POI Loader CSV): lone surrogates never crash a
writer, and the exact size models hold for awkward text, invalid positions and spooling."""

import csv
import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from exporters import sizing
from exporters.base import CameraSet, ExportError, ExportOptions, get_exporter
from exporters.textrows import csv_column, csv_field, csv_quote, json_escape, row_sizes, write_rows

from tests.exporters.fixtures import SAMPLE_ROWS, sample_cameras

FORMATS = ["csv", "geojson", "gpx", "kml", "garmin-poi-csv"]


def awkward_rows():
    """The sample with lone surrogates, NUL, quotes and line breaks in every text field,
    cameras without a country (empty and None) and a road made only of a surrogate."""
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[0].update(road="Rue\ud800 de\x00 Rivoli", description='bad \udcff, "x"\r\nnext', country="F\ud800")
    rows[2].update(road="\udc80", description="\ud800")
    rows[4].update(country="")
    rows[5].update(country=None)
    rows[8].update(description="\x00\ud83d")  # NUL and the first half of an emoji pair
    rows[12].update(road="M\u00fcnchen\udfff@1")
    return rows


def render(identifier, cams, **options):
    return get_exporter(identifier).render(cams, ExportOptions(**options))


def text_files(result):
    return [f for f in result.files if not f.name.endswith((".png", ".bmp"))]


@pytest.mark.parametrize("identifier", FORMATS)
def test_lone_surrogates_do_not_crash_and_the_output_is_valid_utf8(identifier):
    result = render(identifier, CameraSet.from_records(awkward_rows()), mobile=True)
    texts = [f.data.decode("utf-8") for f in text_files(result)]  # strict: would fail on an encoded surrogate
    assert texts and all("\x00" not in t for t in texts)
    if identifier in ("gpx", "kml"):
        for data in texts:
            ET.fromstring(data.encode("utf-8"))  # well-formed XML


def test_csv_turns_lone_surrogates_into_the_replacement_character():
    data = render("csv", CameraSet.from_records(awkward_rows()), mobile=True).files[0].data.decode("utf-8")
    rows = {row["ref"]: row for row in csv.DictReader(io.StringIO(data, newline=""))}
    assert rows["1"]["road"] == "Rue\ufffd de Rivoli"
    assert rows["1"]["description"] == 'bad \ufffd, "x"\r\nnext'
    assert rows["1"]["country"] == "F\ufffd"
    assert rows["3"]["road"] == "\ufffd" and rows["3"]["description"] == "\ufffd"
    assert rows["9"]["description"] == "\ufffd"


def test_geojson_turns_lone_surrogates_into_the_replacement_character():
    data = render("geojson", CameraSet.from_records(awkward_rows()), mobile=True).files[0].data
    features = {f["id"]: f["properties"] for f in json.loads(data)["features"]}
    assert features[1]["road"] == "Rue\ufffd de Rivoli"
    assert features[1]["name"] == "Speed 50 Rue\ufffd de Rivoli"
    assert features[1]["description"] == 'bad \ufffd, "x"\r\nnext'
    assert features[3]["road"] == "\ufffd" and features[9]["description"] == "\ufffd"
    assert b"\\ud8" not in data and b"\\udc" not in data


def test_xml_formats_drop_lone_surrogates_and_poi_csv_makes_them_spaces():
    cams = CameraSet.from_records(awkward_rows())
    gpx = render("gpx", cams).files[0].data.decode("utf-8")
    assert "<name>Speed Rue de Rivoli@50</name>" in gpx
    kml = render("kml", cams).files[0].data.decode("utf-8")
    assert "<name>Speed 50 Rue de Rivoli</name>" in kml and "<Folder><name>F</name>" in kml
    poi = render("garmin-poi-csv", cams).files[0].data.decode("utf-8")
    assert '"Speed Rue de Rivoli@50","bad , ""x"" next, Rue de Rivoli"' in poi


def test_the_text_helpers_replace_lone_surrogates():
    assert csv_field("a\ud800,b") == '"a\ufffd,b"'
    assert csv_quote("\udfff") == '"\ufffd"'
    assert csv_column(["a\ud800", "b", None, 'c"\udc00'], after=";") == ["a\ufffd;", "b;", ";", '"c""\ufffd";']
    assert json_escape('x\ud800"\n') == 'x\ufffd\\"\\n'


def test_row_sizes_are_the_encoded_lengths_of_the_written_rows_even_with_nul_inside():
    column = ["a", "\u00e9\u00e9", "\x00x", "", "\U0001f600"]

    def make(idx):
        return ["<", [column[i] for i in idx.tolist()], ">\n"]

    rows = np.array([4, 0, 2, 1, 3])
    out = io.BytesIO()
    write_rows(out, rows, make, chunk=2)
    sizes = row_sizes(rows, make, chunk=2)
    assert sizes.tolist() == [len(f"<{column[i]}>\n".encode()) for i in rows.tolist()]
    assert int(sizes.sum()) == len(out.getvalue())


def awkward_cameras(n=2000, seed=5):
    rng = np.random.default_rng(seed)
    base = CameraSet.from_records(awkward_rows())
    cams = base.take(rng.integers(0, len(base), n))
    cols = {k: v.copy() for k, v in cams.columns.items()}
    cols["id"] = rng.permutation(np.arange(1, n + 1)).astype(cols["id"].dtype)
    cols["lat"] = np.clip(cols["lat"] + rng.normal(0, 0.1, n), -89.9, 89.9)
    return CameraSet(cols)


def subsets(cams, seed=2):
    rng = np.random.default_rng(seed)
    n = len(cams)
    countries = np.array([str(c) for c in cams["country"]], dtype=object)
    yield None
    yield np.zeros(n, bool)
    yield rng.random(n) < 0.3
    yield countries == "FR"
    yield countries == ""
    yield np.asarray([c is None for c in cams["country"]])
    yield np.arange(n) == n - 1


@pytest.mark.parametrize("options", [dict(mobile=True), dict(mobile=True, icons="fr-danger"),
                                     dict(fr_danger_zones=True, proximity_m=150)], ids=["mobile", "fr-icons", "zones"])
@pytest.mark.parametrize("identifier", FORMATS)
def test_size_models_hold_for_awkward_text(identifier, options):
    cams = awkward_cameras()
    exporter = get_exporter(identifier)
    options = ExportOptions(**options)
    model = exporter.size_model(cams, options)
    for mask in subsets(cams):
        assert model.sizes(mask) == sizing.rendered_sizes(exporter, cams, options, mask)


@pytest.mark.parametrize("identifier", FORMATS)
def test_a_size_model_refuses_a_subset_with_an_invalid_position_as_render_does(identifier):
    rows = [dict(r) for r in SAMPLE_ROWS]
    rows[4]["lat"] = float("nan")
    rows[9]["lon"] = 181.0
    cams = CameraSet.from_records(rows)
    exporter = get_exporter(identifier)
    options = ExportOptions(mobile=True)
    model = exporter.size_model(cams, options)  # building the model does not refuse anything
    with pytest.raises(ExportError) as rendered:
        exporter.render(cams, options)
    with pytest.raises(ExportError) as sized:
        model.sizes()
    assert str(sized.value) == str(rendered.value)
    ok = np.ones(len(cams), bool)
    ok[[4, 9]] = False
    assert model.sizes(ok) == sizing.rendered_sizes(exporter, cams, options, ok)


@pytest.mark.parametrize("identifier", FORMATS)
def test_spooled_files_have_the_sizes_of_the_model(identifier, tmp_path):
    cams = sample_cameras()
    exporter = get_exporter(identifier)
    options = ExportOptions(mobile=True, spool_dir=str(tmp_path))
    assert exporter.size_model(cams, options).sizes() == sizing.SizedExport.of(exporter.render(cams, options))


def test_kml_with_the_french_danger_icons_has_one_fr_danger_style_and_icon():
    result = render("kml", sample_cameras(), mobile=True, icons="fr-danger")
    names = [f.name for f in result.files]
    assert len(names) == len(set(names)) and "icons/fr-danger.png" in names
    data = result.files[0].data.decode("utf-8")
    assert data.count('<Style id="fr-danger">') == 1
    assert data.count("<styleUrl>#fr-danger</styleUrl>") == sum(r["country"] == "FR" for r in SAMPLE_ROWS)
