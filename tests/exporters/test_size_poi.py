"""Size models of the POI-file plugins (TomTom OV2, Garmin GPI): the tree shapes they count
on, the refusals they share with ``render``, and chunked writing that keeps the bytes."""

import numpy as np
import pytest

from exporters import sizing
from exporters.base import CameraSet, ExportError, ExportOptions, get_exporter
from exporters.plugins import garmin_gpi, ov2

from tests.exporters.fixtures import sample_cameras, scaled_cameras
from tests.exporters.readers.gpi_reader import read_gpi
from tests.exporters.test_sizing import mixed_cameras

SMALL_N = range(0, 3001)
LARGE_N = [4095, 4096, 4097, 10_007, 65_536, 100_001, 262_143, 300_001]


def random_points(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.integers(-18_000_000, 18_000_000, n), rng.integers(-9_000_000, 9_000_000, n)


# ---------------------------------------------------------------------------------------
# Tree shapes: a function of the number of POIs only


def forest_node_counts(root_sizes, seed=1):
    """Skipper records per root as ``build_forest`` makes them for random points."""
    root_sizes = np.asarray(root_sizes, dtype=np.int64)
    x, y = random_points(int(root_sizes.sum()), seed)
    _, nodes = ov2.build_forest(x, y, root_sizes)
    ends = np.cumsum(root_sizes)
    root = np.searchsorted(ends, nodes["start"], side="right")  # the root each node's points belong to
    return np.bincount(root, minlength=len(root_sizes))


def test_skipper_count_equals_the_nodes_of_build_forest_for_every_small_n():
    sizes = np.arange(1, SMALL_N.stop)
    for part in np.array_split(sizes, 6):  # a few forests of many roots each (one root per n)
        got = forest_node_counts(part)
        expected = [ov2.skipper_count(int(n)) for n in part]
        assert got.tolist() == expected, f"first difference at n={part[np.argmax(got != expected)]}"
    assert ov2.skipper_count(0) == 1


@pytest.mark.parametrize("n", LARGE_N)
def test_skipper_count_equals_the_nodes_of_build_forest_for_large_n(n):
    assert forest_node_counts([n], seed=n).tolist() == [ov2.skipper_count(n)]


def test_skipper_count_does_not_depend_on_where_the_points_are():
    n = 5_000
    same_place = forest_node_counts([n])  # random
    x = np.zeros(n, dtype=np.int64)
    _, nodes = ov2.build_forest(x, x, [n])  # every point at one place
    assert len(nodes["start"]) == same_place[0] == ov2.skipper_count(n)


def kd_area_count(n: int, seed: int) -> int:
    lat, lon = random_points(n, seed)
    order, starts = garmin_gpi.kd_areas(lat * 200, lon * 100)
    assert sorted(order.tolist()) == list(range(n))
    return len(starts)


def test_area_count_equals_the_areas_of_kd_areas_for_every_small_n():
    got = [kd_area_count(n, n) for n in SMALL_N]
    assert got == [garmin_gpi.area_count(n) for n in SMALL_N]


@pytest.mark.parametrize("n", LARGE_N)
def test_area_count_equals_the_areas_of_kd_areas_for_large_n(n):
    assert kd_area_count(n, n) == garmin_gpi.area_count(n)


def test_area_count_with_every_point_at_one_place():
    n = 3_333
    zeros = np.zeros(n, dtype=np.int64)
    assert len(garmin_gpi.kd_areas(zeros, zeros)[1]) == garmin_gpi.area_count(n)


# ---------------------------------------------------------------------------------------
# Models against rendering, beyond test_sizing


def assert_model_matches(identifier, cams, options, masks, exporter=None):
    exporter = exporter or get_exporter(identifier)
    model = exporter.size_model(cams, options)
    for mask in masks:
        assert model.sizes(mask) == sizing.rendered_sizes(exporter, cams, options, mask)


def with_columns(cams: CameraSet, **changes) -> CameraSet:
    cols = {k: v.copy() for k, v in cams.columns.items()}
    for name, (rows, value) in changes.items():
        cols[name][rows] = value
    return CameraSet(cols)


@pytest.mark.parametrize("identifier", ["tomtom-ov2", "garmin-gpi"])
def test_an_empty_camera_set_and_an_all_mobile_selection(identifier):
    empty = sample_cameras().take(np.zeros(len(sample_cameras()), dtype=bool))
    assert_model_matches(identifier, empty, ExportOptions(), [None])
    cams = sample_cameras()
    mobile_only = cams["kind"] == 1
    assert_model_matches(identifier, cams, ExportOptions(), [mobile_only, ~mobile_only])


@pytest.mark.parametrize("identifier", ["tomtom-ov2", "garmin-gpi"])
def test_a_subset_with_an_invalid_position_is_refused_as_render_refuses_it(identifier):
    cams = with_columns(sample_cameras(), lat=([2, 5], np.nan))
    exporter = get_exporter(identifier)
    model = exporter.size_model(cams, ExportOptions(mobile=True))
    for mask in (None, np.arange(len(cams)) == 2):
        with pytest.raises(ExportError) as rendered:
            exporter.render(cams if mask is None else cams.take(mask), ExportOptions(mobile=True))
        with pytest.raises(ExportError) as modelled:
            model.sizes(mask)
        assert str(modelled.value) == str(rendered.value)
    fine = ~np.isin(np.arange(len(cams)), [2, 5])
    assert_model_matches(identifier, cams, ExportOptions(mobile=True), [fine, fine & (np.arange(len(cams)) < 10)])


def test_gpi_sizes_any_speed_as_render_writes_it():
    """GPI alerts carry no speed (only the name does), so 2,000 km/h is not refused: the model
    gives the bytes render writes, with and without that camera."""
    cams = with_columns(sample_cameras(), speed=([0], 2000))
    assert_model_matches("garmin-gpi", cams, ExportOptions(), [None, np.arange(len(cams)) > 0])
    assert_model_matches("garmin-gpi", cams, ExportOptions(proximity_m=700), [None])


def test_gpi_with_a_fixed_creation_time_and_one_out_of_range():
    cams = mixed_cameras(500)
    assert_model_matches("garmin-gpi", cams, ExportOptions(), [None],
                         exporter=garmin_gpi.GarminGPI(created_unix=1_700_000_000))
    model = garmin_gpi.GarminGPI(created_unix=0).size_model(cams, ExportOptions())
    with pytest.raises(ExportError, match="creation time"):
        model.sizes(None)


@pytest.mark.parametrize("identifier", ["tomtom-ov2", "garmin-gpi"])
def test_many_names_that_need_transliteration_cutting_and_ties(identifier):
    cams = scaled_cameras(6000)
    rng = np.random.default_rng(4)
    roads = np.array(["Łódź", "Москва", "Κεντρική οδός", "A1", "A1 ", "Périphérique " * 8, "Rue\u2028de\u0000la Paix",
                      "x@y", "€ road"], dtype=object)
    cols = dict(cams.columns)
    cols["road"] = roads[rng.integers(0, len(roads), len(cams))]
    cols["description"] = roads[rng.integers(0, len(roads), len(cams))]
    cams = CameraSet(cols)
    masks = [None, rng.random(len(cams)) < 0.3, np.asarray(cams["type"]) == 1]
    assert_model_matches(identifier, cams, ExportOptions(mobile=True), masks)


def world_cameras(n: int, seed: int, shuffle: bool = True) -> CameraSet:
    """``scaled_cameras`` with a few roads outside Windows-1252 (Cyrillic, Greek, Polish) among
    Latin ones with letters that are one byte in Windows-1252 and two in UTF-8; in random order."""
    cams = scaled_cameras(n, seed=seed)
    rng = np.random.default_rng(seed)
    latin = np.array(["Münchner Straße", "Périphérique", "A1", "Route de Paris"], dtype=object)
    cols = dict(cams.columns)
    cols["road"] = latin[rng.integers(0, len(latin), n)]
    wide = rng.choice(n, 12, replace=False)
    cols["road"][wide[:4]] = "Тверская"
    cols["road"][wide[4:8]] = "Λεωφόρος Συγγρού"
    cols["description"] = cols["description"].copy()
    cols["description"][wide[8:]] = "Łódź"
    cams = CameraSet(cols)
    return cams.take(rng.permutation(n)) if shuffle else cams


@pytest.mark.parametrize("mobile", [False, True])
def test_gpi_files_turn_utf8_with_the_subset_that_holds_a_name_outside_windows_1252(mobile):
    """A file is UTF-8 (longer records for every accented name in it) exactly when the subset
    puts a camera with a name outside Windows-1252 in it: the model follows, subset by subset."""
    cams = world_cameras(3000, seed=5)
    options = ExportOptions(mobile=mobile)
    roads = np.asarray(cams["road"])
    outside = (roads == "Тверская") | (roads == "Λεωφόρος Συγγρού") | (np.asarray(cams["description"]) == "Łódź")
    rng = np.random.default_rng(6)
    masks = [None, ~outside, outside | (rng.random(len(cams)) < 0.2), rng.random(len(cams)) < 0.5,
             (np.arange(len(cams)) == np.flatnonzero(outside)[0]) | ~outside]
    assert_model_matches("garmin-gpi", cams, options, masks)
    pages = {read_gpi(f.data).code_page for f in get_exporter("garmin-gpi").render(cams, options).files}
    assert pages == {1252, 65001}
    latin = {read_gpi(f.data).code_page for f in get_exporter("garmin-gpi").render(cams.take(~outside), options).files}
    assert latin == {1252}


def test_gpi_model_of_a_device_that_transliterates():
    cams = world_cameras(2000, seed=8)
    exporter = garmin_gpi.GarminGPI(transliterate=True)
    rng = np.random.default_rng(9)
    assert_model_matches("garmin-gpi", cams, ExportOptions(mobile=True), [None, rng.random(len(cams)) < 0.4],
                         exporter=exporter)
    assert {read_gpi(f.data).code_page for f in exporter.render(cams, ExportOptions(mobile=True)).files} == {1252}


def test_utf8_files_written_in_chunks_keep_their_bytes(monkeypatch, tmp_path):
    cams = world_cameras(3000, seed=11)
    cols = dict(cams.columns)
    cols["description"] = np.array([f"{d} {i} ü" for i, d in enumerate(cams["description"].tolist())], dtype=object)
    cams = CameraSet(cols)  # a description per camera: many distinct tails
    options = ExportOptions(mobile=True)
    reference = get_exporter("garmin-gpi").render(cams, options)
    monkeypatch.setattr(garmin_gpi, "TAIL_CODES", 50)  # tails made per chunk of POIs (ChunkTails)
    monkeypatch.setattr(garmin_gpi, "ROWS_PER_CHUNK", 100)
    result = get_exporter("garmin-gpi").render(cams, options.with_(spool_dir=str(tmp_path)))
    assert [f.read_bytes() for f in result.files] == [f.read_bytes() for f in reference.files]
    assert 65001 in {read_gpi(f.read_bytes()).code_page for f in result.files}
    assert_model_matches("garmin-gpi", cams, options, [None])


# ---------------------------------------------------------------------------------------
# Chunked writing keeps the bytes


@pytest.mark.parametrize("identifier", ["tomtom-ov2", "garmin-gpi"])
def test_chunked_and_spooled_writing_gives_the_same_bytes(identifier, monkeypatch, tmp_path):
    cams = mixed_cameras(5000)
    options = ExportOptions(mobile=True)
    reference = get_exporter(identifier).render(cams, options)
    if identifier == "tomtom-ov2":
        monkeypatch.setattr(ov2, "ROWS_PER_CHUNK", 37)
        monkeypatch.setattr(ov2, "POIS_PER_BATCH", 300)
    else:
        monkeypatch.setattr(garmin_gpi, "ROWS_PER_CHUNK", 100)
    monkeypatch.setattr("exporters.bulk.CHUNK_ROWS", 7)
    for opts, tail_matrix in ((options, 0), (options.with_(spool_dir=str(tmp_path)), 1 << 24)):
        monkeypatch.setattr(garmin_gpi, "TAIL_MATRIX_BYTES", tail_matrix)  # GPI: tails gathered, then a matrix
        result = get_exporter(identifier).render(cams, opts)
        assert [(f.name, f.category, f.count) for f in result.files] == \
            [(f.name, f.category, f.count) for f in reference.files]
        assert [f.read_bytes() for f in result.files] == [f.read_bytes() for f in reference.files]
        assert result.notes == reference.notes
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".group") == []  # GPI temporary groups removed


# ---------------------------------------------------------------------------------------
# Many subsets of one model (how fast: benchmarks/bench_sizes.py, about 3 ms a query)


@pytest.mark.parametrize("identifier", ["tomtom-ov2", "garmin-gpi"])
def test_sizes_of_many_subsets_of_200k_cameras_come_from_one_model(identifier):
    cams = scaled_cameras(200_000)
    model = get_exporter(identifier).size_model(cams, ExportOptions(mobile=True))
    rng = np.random.default_rng(1)
    everything = model.sizes(np.ones(len(cams), dtype=bool))
    nothing = model.sizes(np.zeros(len(cams), dtype=bool))
    for _ in range(7):
        mask = rng.random(len(cams)) < rng.random()
        sizes = model.sizes(mask)
        assert sizes == model.sizes(mask.copy())  # a pure function of the mask
        assert nothing.pois <= sizes.pois <= everything.pois
        assert total_bytes(nothing) <= total_bytes(sizes) <= total_bytes(everything)


def total_bytes(sizes) -> int:
    return sum(f.bytes for f in sizes.files)
