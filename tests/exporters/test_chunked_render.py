"""Writers build their rows a chunk at a time, each chunk from its own rows only (names,
comments and record tails included): tiny chunk sizes must give the same bytes, and the
size models the same sizes, for every format."""

import numpy as np
import pytest

from exporters import textrows
from exporters.base import CameraSet, ExportOptions, load_plugins
from exporters import bulk, points
from exporters.plugins import csv, garmin_gpi, ov2, sygic

from tests.exporters.fixtures import sample_cameras, scaled_cameras

PLUGINS = sorted(load_plugins())

# (module, constant, tiny value): every chunk size a writer or size model reads
TINY_CHUNKS = [
    (textrows, "CHUNK_ROWS", 3),
    (textrows, "TEXT_CACHE", 1),           # the cache of distinct names starts afresh every chunk
    (bulk, "CHUNK_ROWS", 2),
    (csv, "CHUNK", 5),
    (points, "SIZE_CHUNK", 4),
    (ov2, "ROWS_PER_CHUNK", 7),
    (ov2, "POIS_PER_BATCH", 50),
    (garmin_gpi, "ROWS_PER_CHUNK", 3),
    (garmin_gpi, "TAIL_CODES", 1),        # every file's tails made per chunk of POIs ...
    (garmin_gpi, "TAIL_MATRIX_BYTES", 0),  # ... and, where they are few, gathered from the blob
    (sygic, "INSERT_CHUNK", 3),
]

ROADS = ["A1", "Rue de Rivoli", 'Quai "Nord", 2', "Łódź – Piotrkowska", "Невский проспект", "", "O'Connell St",
         "Route <b> & co", "Straße@7"]
DESCRIPTIONS = ["", "Radar", "Blitzer & Co", 'Ampel "Nord"\r\nline 2', "Zone, 30", "Ελληνικά", "tab\there"]


def distinct_texts(n: int = 600) -> CameraSet:
    """A camera set where almost every camera has its own road and description (as the 1M
    demo release), with text that needs escaping, quoting and transliteration."""
    cams = scaled_cameras(n, seed=11)
    cols = dict(cams.columns)
    ids = cols["id"].tolist()
    cols["road"] = np.array([f"{ROADS[i % len(ROADS)]} {i // 3}" if i % 5 else ROADS[i % len(ROADS)] for i in ids],
                            dtype=object)
    cols["description"] = np.array([f"{DESCRIPTIONS[i % len(DESCRIPTIONS)]} #{i}" if i % 4 else "" for i in ids],
                                   dtype=object)
    return CameraSet(cols)


CASES = {
    "sample": (sample_cameras, ExportOptions(mobile=True)),
    "sample-fr": (sample_cameras, ExportOptions(mobile=True, icons="fr-danger", fr_danger_zones=True)),
    "distinct": (distinct_texts, ExportOptions(mobile=True)),
    "distinct-fixed": (distinct_texts, ExportOptions(mobile=False)),
}


def rendered(identifier, cams, options, tmp_path=None):
    plugin = load_plugins()[identifier]()
    if tmp_path is not None:
        options = options.with_(spool_dir=str(tmp_path))
    result = plugin.render(cams, options)
    return [(f.name, f.category, f.count, f.read_bytes()) for f in result.files], result.notes, result.skipped


def sized(identifier, cams, options):
    model = load_plugins()[identifier]().size_model(cams, options)
    result = model.sizes()
    return [(f.name, f.category, f.count, f.bytes) for f in result.files], result.notes, result.skipped


# chunks of 100 rows: a text writer's ``textrows.ChunkTexts`` sees mostly new names in a
# chunk of the distinct set and stops caching (its "direct" mode)
MID_CHUNKS = [(textrows, "CHUNK_ROWS", 100), (csv, "CHUNK", 100), (garmin_gpi, "TAIL_CODES", 100)]
CHUNKINGS = {"tiny": TINY_CHUNKS, "mid": MID_CHUNKS}


def tiny_chunks(monkeypatch, chunking="tiny"):
    for module, name, value in CHUNKINGS[chunking]:
        assert hasattr(module, name), f"{module.__name__}.{name}"
        monkeypatch.setattr(module, name, value)


@pytest.mark.parametrize("chunking", sorted(CHUNKINGS))
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("identifier", PLUGINS)
def test_tiny_chunks_give_the_same_bytes(identifier, case, chunking, monkeypatch, tmp_path):
    make, options = CASES[case]
    if not options.mobile and not load_plugins()[identifier].mobile_supported:
        pytest.skip("format without mobile cameras")
    cams = make()
    expected = rendered(identifier, cams, options)
    assert expected[0], "nothing rendered"
    tiny_chunks(monkeypatch, chunking)
    assert rendered(identifier, cams, options) == expected
    (tmp_path / "spool").mkdir()
    assert rendered(identifier, cams, options, tmp_path / "spool") == expected  # spooled, as the export command


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("identifier", PLUGINS)
def test_tiny_chunks_give_the_same_sizes(identifier, case, monkeypatch):
    make, options = CASES[case]
    cams = make()
    files, notes, skipped = rendered(identifier, cams, options)
    tiny_chunks(monkeypatch)
    assert sized(identifier, cams, options) == ([(n, c, k, len(data)) for n, c, k, data in files], notes, skipped)


def test_a_writer_with_many_distinct_texts_makes_them_per_chunk(monkeypatch):
    """With a name per camera no table of every name is made up front: the names of a chunk
    are made for the rows of that chunk (``common.poi_names`` sees chunk-sized sets)."""
    from exporters.plugins import geojson, gpx, kml

    seen = []
    real = textrows.CHUNK_ROWS
    monkeypatch.setattr(textrows, "CHUNK_ROWS", 50)
    for module in (kml, gpx, geojson):
        original = module.poi_names

        def spy(cameras, *args, original=original, **kwargs):
            seen.append(len(cameras))
            return original(cameras, *args, **kwargs)

        monkeypatch.setattr(module, "poi_names", spy)
    cams = distinct_texts(400)
    for identifier in ("kml", "gpx", "geojson"):
        seen.clear()
        load_plugins()[identifier]().render(cams, ExportOptions(mobile=True))
        assert seen and max(seen) <= 50 < real, identifier


def test_chunk_texts_stops_caching_when_most_texts_are_new(monkeypatch):
    """``ChunkTexts``: few distinct combinations are built once and then looked up; when most
    rows of a chunk are new it builds each chunk's rows directly, with the same texts."""
    built = []

    def build(rows):
        built.append(len(rows))
        return [f"{t}-{r}" for t, r in zip(kinds[rows].tolist(), roads[rows].tolist())]

    kinds = np.arange(1000) % 3
    roads = np.array(["A1", "B2"] * 500, dtype=object)
    few = textrows.ChunkTexts((kinds, roads), build)
    rows = np.arange(1000)
    assert [t for a in range(0, 1000, 100) for t in few(rows[a:a + 100])] == build(rows)
    assert built[:-1] == [6] and not few.direct  # 6 combinations, made once
    built.clear()
    roads = np.array([f"road {i}" for i in range(1000)], dtype=object)
    many = textrows.ChunkTexts((kinds, roads), build)
    assert [t for a in range(0, 1000, 100) for t in many(rows[a:a + 100])] == build(rows)
    assert many.direct and not many.cache and built[:-1] == [100] * 10
