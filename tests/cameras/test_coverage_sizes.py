"""Exact package sizes for a coverage (equal to the built package, for every format), the
fit proposal (never over a limit), the coverage command and its map."""

import io
import json
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cameras.coverage import Coverage, Route
from cameras.coverage.map import RAMP
from cameras.exporting import export_package, release_index, sizer
from cameras.coverage.fitting import propose_fit
from exporters.base import ExportOptions
from exporters.devices import DEVICES, Limit, get_device
from tests.releases import demo_release

pytestmark = pytest.mark.django_db

ONE_DEVICE_PER_FORMAT = sorted({d.format: d.id for d in DEVICES}.values())


@pytest.fixture
def release(tmp_path):
    return demo_release(tmp_path, cameras=800, seed=9)


def package_files(package) -> list[tuple[str, int]]:
    zf = zipfile.ZipFile(io.BytesIO(package.data))
    return sorted((i.filename, i.file_size) for i in zf.infolist())


ROUTE = Route.from_points(np.linspace(48.85, 45.76, 40), np.linspace(2.35, 4.84, 40), name="Paris-Lyon")
COVERAGES = {
    "europe": lambda: Coverage.parse(["europe"]),
    "fr-be": lambda: Coverage.parse(["FR", "BE"]),
    "de-route": lambda: Coverage.parse(["DE"], route=ROUTE, corridor_km=10),
}


@pytest.mark.parametrize("coverage", list(COVERAGES))
@pytest.mark.parametrize("device_id", ONE_DEVICE_PER_FORMAT)
def test_sizes_equal_the_built_package_for_every_format(release, device_id, coverage):
    device = get_device(device_id)
    options = ExportOptions(mobile=device.mobile, icons="fr-danger" if device.icon_swap else "speed")
    cov = COVERAGES[coverage]()
    size = sizer(release, device, options).size(cov)
    package = export_package(device, cov, options, release=release)
    assert [(f["name"], f["bytes"]) for f in size.files] == package_files(package)
    manifest_counts = {f["name"]: f["count"] for f in package.manifest["files"]}
    assert {f["name"]: f["count"] for f in size.files if f["name"] in manifest_counts} == manifest_counts
    assert size.cameras == package.manifest["counts"]["total"]
    assert size.by_country == package.manifest["counts"]["by_country"]
    assert size.warnings == package.manifest["warnings"]


def test_a_size_query_reuses_the_model_and_gives_the_same_answer(release):
    # How fast a query is once the model is built: benchmarks/bench_coverage.py (200k cameras).
    s = sizer(release, get_device("garmin-nuvi"), ExportOptions(mobile=True))
    cov = Coverage.parse(["western-europe"])
    first = s.size(cov)
    again = [s.size(cov) for _ in range(3)]
    assert all(a.files == first.files and a.cameras == first.cameras for a in again)
    assert sizer(release, get_device("garmin-nuvi"), ExportOptions(mobile=True)) is s  # cached per release


def limited(device_id, pois=None, file_bytes=None):
    device = get_device(device_id)
    return replace(device, max_pois=Limit(pois, "test") if pois else None,
                   max_file_bytes=Limit(file_bytes, "test") if file_bytes else None)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(min_value=1, max_value=900), core=st.sampled_from([["FR"], ["DE"], ["BE", "NL"], ["IT"]]))
def test_a_fit_never_exceeds_the_poi_limit(release, limit, core):
    device = limited("igo-primo", pois=limit)
    options = ExportOptions(mobile=True)
    fit = propose_fit(lambda o: sizer(release, device, o), options, Coverage.parse(core))
    if fit.fits:
        assert fit.size.pois <= limit and fit.size.warnings == []
        assert fit.size.coverage.countries >= set(core)
    else:
        assert fit.size.pois > limit
        assert fit.size.pois_over == fit.size.pois - limit
        assert any(f"{fit.size.pois_over:,} POIs over" in line for line in fit.summary())


def test_the_fit_adds_neighbours_nearest_first_and_the_built_package_fits(release):
    full = sizer(release, get_device("igo-primo"), ExportOptions()).size(Coverage.parse(["FR"]))
    device = limited("igo-primo", pois=full.pois + 150)
    fit = propose_fit(lambda o: sizer(release, device, o), ExportOptions(), Coverage.parse(["FR"]))
    assert fit.fits and fit.added
    distances = [km for _, km, _ in fit.added]
    assert distances == sorted(distances)
    assert fit.size.pois <= full.pois + 150
    # the neighbours of France come first, nothing far away before them
    assert fit.added[0][0] in {"BE", "CH", "DE", "LU", "IT", "ES", "AD", "MC"}
    package = export_package(device, fit.size.coverage, ExportOptions(), release=release)
    assert package.manifest["warnings"] == []
    assert package.manifest["counts"]["pois"] == fit.size.pois


def test_a_fit_respects_a_file_byte_limit(release):
    size = sizer(release, get_device("garmin-poi-loader"), ExportOptions()).size(Coverage.parse(["DE"]))
    biggest = size.largest_file["bytes"]
    device = limited("garmin-poi-loader", file_bytes=biggest + 2000)
    fit = propose_fit(lambda o: sizer(release, device, o), ExportOptions(), Coverage.parse(["DE"]))
    assert fit.fits
    assert max(f["bytes"] for f in fit.size.files) <= biggest + 2000


def test_when_the_core_does_not_fit_mobile_cameras_go_first_if_allowed(release):
    s = sizer(release, get_device("igo-primo"), ExportOptions(mobile=True))
    with_mobile = s.size(Coverage.parse(["FR"]))
    fixed_only = sizer(release, get_device("igo-primo"), ExportOptions()).size(Coverage.parse(["FR"]))
    assert fixed_only.pois < with_mobile.pois
    device = limited("igo-primo", pois=fixed_only.pois)
    refused = propose_fit(lambda o: sizer(release, device, o), ExportOptions(mobile=True), Coverage.parse(["FR"]))
    assert not refused.fits
    assert any("mobile cameras" in cut for cut in refused.cuts)
    allowed = propose_fit(lambda o: sizer(release, device, o), ExportOptions(mobile=True), Coverage.parse(["FR"]),
                          allow_drop_mobile=True)
    assert allowed.fits and allowed.dropped_mobile and allowed.options.mobile is False
    assert allowed.size.pois <= fixed_only.pois


def test_the_least_important_types_go_only_if_allowed(release):
    base = sizer(release, get_device("igo-primo"), ExportOptions()).size(Coverage.parse(["DE"]))
    droppable = base.by_type.get("other", 0) + base.by_type.get("bus-lane", 0)
    assert droppable
    device = limited("igo-primo", pois=base.pois - 1)
    fit = propose_fit(lambda o: sizer(release, device, o), ExportOptions(), Coverage.parse(["DE"]),
                      allow_drop_types=True)
    assert fit.fits and fit.dropped_types
    assert all(fit.size.by_type.get(t, 0) == 0 for t in fit.dropped_types)
    assert fit.size.pois <= base.pois - 1


# ---------------------------------------------------------------------------------------
# the command


def test_coverage_command_prints_files_sizes_and_the_limit(release, capsys):
    call_command("coverage", "--device", "garmin-nuvi", "--countries", "FR,BE", "--regions", "dach")
    out = capsys.readouterr().out
    assert "coverage BE, FR, dach" in out
    assert "50,000 POIs" in out and "FITS" in out
    s = sizer(release, get_device("garmin-nuvi"), ExportOptions()).size(Coverage.parse(["FR", "BE", "dach"]))
    for f in s.files:
        assert f"{f['bytes']:,}" in out


def test_coverage_command_fit_json_and_map(release, tmp_path, capsys):
    png = tmp_path / "map.png"
    call_command("coverage", "--device", "igo-primo", "--countries", "FR", "--fit", "--json", "--png", str(png))
    out = capsys.readouterr().out
    data = json.loads(out[:out.rindex("}") + 1])
    assert data["fit"]["fits"] is True
    assert data["fit"]["proposal"]["pois"] <= 150_000
    assert set(data["fit"]["proposal"]["coverage"]) >= {"FR"}
    image = Image.open(png)
    assert image.format == "PNG" and image.size[0] >= 800
    colours = {c for _, c in image.convert("RGB").getcolors(1 << 20)}
    assert any(c in colours for c in RAMP)  # the camera density is drawn


def test_coverage_command_over_the_limit_says_by_how_much(release, capsys, monkeypatch):
    import cameras.management.coverage_args as args

    device = limited("igo-primo", pois=10)
    monkeypatch.setattr(args, "get_device", lambda _id: device)
    call_command("coverage", "--device", "igo-primo", "--countries", "FR", "--fit")
    captured = capsys.readouterr()
    assert "OVER THE LIMIT" in captured.err
    assert "Even the core (FR) does not fit" in captured.out and "POIs over the limit of 10" in captured.out
    assert "What could be cut" in captured.out


def test_coverage_command_with_a_route(release, tmp_path, capsys):
    track = tmp_path / "trip.gpx"
    track.write_text('<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
                     + "".join(f'<trkpt lat="{a}" lon="{b}"/>' for a, b in zip(ROUTE.lat, ROUTE.lon))
                     + "</trkseg></trk></gpx>")
    call_command("coverage", "--device", "igo-primo", "--countries", "BE", "--route", str(track),
                 "--corridor-km", "10")
    out = capsys.readouterr().out
    assert "route:" in out and "+10km" in out
    index = release_index(release)
    expected = (Coverage.parse(["BE"], route=ROUTE, corridor_km=10).mask(index) & ~index.mobile).sum()  # no --mobile
    assert f"cameras: {expected:,}" in out


def test_a_device_without_coverage_setup_gets_its_default_with_the_reason(release, capsys):
    call_command("coverage", "--device", "sygic-android", "--countries", "FR")
    captured = capsys.readouterr()
    assert "default coverage only (world-no-ch)" in captured.err
    assert "coverage world" in captured.out


@pytest.mark.parametrize("argv, message", [
    (["--countries", "FR", "--regions", "westren-europe"], "did you mean western-europe"),
    (["--countries", "FR", "--home", "somewhere"], "is not LAT,LON"),
    (["--countries", "FR", "--route", "/nonexistent.gpx"], "does not exist"),
])
def test_coverage_command_bad_input(release, argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("coverage", "--device", "igo-primo", *argv)


def test_export_command_takes_a_route_corridor(release, tmp_path):
    track = tmp_path / "trip.gpx"
    track.write_text('<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><rte>'
                     + "".join(f'<rtept lat="{a}" lon="{b}"/>' for a, b in zip(ROUTE.lat, ROUTE.lon))
                     + "</rte></gpx>")
    out = tmp_path / "trip.zip"
    call_command("export", "--device", "igo-primo", "--countries", "BE", "--route", str(track), "-o", str(out))
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert manifest["coverage"]["codes"][0] == "BE" and manifest["coverage"]["codes"][1].startswith("route:")
    assert set(manifest["counts"]["by_country"]) >= {"BE", "FR"}
