"""cameras.geo: countries for coordinates, nearest country, swapped latitude/longitude."""
import csv
import re

import numpy as np
import pytest
import shapely

from cameras import geo
from cameras.regions import REGIONS

PLACES = {
    "Paris": (48.8566, 2.3522, "FR"),
    "Berlin": (52.5200, 13.4050, "DE"),
    "Madrid": (40.4168, -3.7038, "ES"),
    "Brussels": (50.8503, 4.3517, "BE"),
    "Monaco": (43.7384, 7.4246, "MC"),
    "Vatican City": (41.9029, 12.4534, "VA"),
    "San Marino": (43.9424, 12.4578, "SM"),
    "Vaduz": (47.1410, 9.5209, "LI"),
    "Luxembourg": (49.6116, 6.1319, "LU"),
    "Andorra la Vella": (42.5063, 1.5218, "AD"),
    "Pristina": (42.6629, 21.1655, "XK"),
    "Oslo": (59.9139, 10.7522, "NO"),
    "Saint-Denis, Réunion": (-20.8821, 55.4507, "FR"),
    "Pointe-à-Pitre, Guadeloupe": (16.2411, -61.5331, "FR"),
}


@pytest.mark.parametrize("place", PLACES)
def test_a_point_in_a_city_gets_the_country_it_is_in(place):
    lat, lon, code = PLACES[place]
    assert geo.assign_countries(np.array([lat]), np.array([lon]))[0] == code
    assert geo.nearest_country(lat, lon) == (code, 0.0)


def test_many_points_are_assigned_in_one_vectorised_call_in_input_order():
    lat = np.array([v[0] for v in PLACES.values()] * 100)
    lon = np.array([v[1] for v in PLACES.values()] * 100)
    got = geo.assign_countries(lat, lon)
    assert got.dtype == np.dtype("<U2")
    assert got.tolist() == [v[2] for v in PLACES.values()] * 100


def test_a_point_5_km_off_the_french_atlantic_coast_is_france_within_the_tolerance_only():
    lat, lon = 44.5, -1.31  # off the straight Landes coast
    code, km = geo.nearest_country(lat, lon)
    assert code == "FR" and 4.0 < km < 6.0
    assert geo.assign_countries([lat], [lon], tolerance_km=25.0)[0] == "FR"
    assert geo.assign_countries([lat], [lon], tolerance_km=3.0)[0] == ""
    assert geo.assign_countries([lat], [lon], tolerance_km=0.0)[0] == ""


def test_a_point_in_the_mid_atlantic_has_no_country_and_names_the_azores_as_nearest():
    assert geo.assign_countries([35.0], [-40.0])[0] == ""
    code, km = geo.nearest_country(35.0, -40.0)
    assert code == "PT"  # the Azores
    assert 850 < km < 950


def test_points_on_the_french_belgian_border_get_france_or_belgium():
    countries = geo.load_countries()
    fr = countries.loc[countries["name"] == "France", "geometry"].iloc[0]
    be = countries.loc[countries["iso2"] == "BE", "geometry"].iloc[0]
    border = shapely.intersection(fr.boundary, be.boundary)
    points = []
    for line in shapely.get_parts(shapely.line_merge(border)):
        xy = shapely.get_coordinates(line)
        points += [xy, (xy[:-1] + xy[1:]) / 2]  # the vertices and the midpoints between them
    points = np.concatenate(points)
    assert len(points) > 400
    got = geo.assign_countries(points[:, 1], points[:, 0], tolerance_km=0.0)
    assert set(got.tolist()) <= {"FR", "BE"}


def test_nan_infinite_and_out_of_range_coordinates_give_an_empty_code_and_keep_the_shape():
    lat = np.array([[48.8566, np.nan, 52.52], [np.inf, 95.0, 40.4168]])
    lon = np.array([[2.3522, 2.0, np.nan], [1.0, 2.0, -3.7038]])
    got = geo.assign_countries(lat, lon)
    assert got.shape == (2, 3)
    assert got.tolist() == [["FR", "", ""], ["", "", "ES"]]
    assert geo.assign_countries(np.array([]), np.array([])).shape == (0,)
    assert geo.nearest_country(float("nan"), 2.0) == ("", float("inf"))


def test_lat_and_lon_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="shape"):
        geo.assign_countries(np.zeros(3), np.zeros(4))


def test_the_nearest_country_search_crosses_the_antimeridian():
    # East of 180° near Fiji: Fiji land on the same side is 9.6 km away, across the line 7.5 km.
    lat, lon = -17.05, -179.995
    code, km = geo.nearest_country(lat, lon)
    assert code == "FJ" and 7.0 < km < 8.0
    assert geo.assign_countries([lat], [lon], tolerance_km=8.5)[0] == "FJ"
    assert geo.assign_countries([lat], [lon], tolerance_km=7.0)[0] == ""


def test_bulk_offshore_distances_agree_with_the_exact_single_point_search():
    rng = np.random.default_rng(7)
    lat = rng.uniform(35, 60, 20_000)
    lon = rng.uniform(-12, 30, 20_000)
    at_sea = geo.assign_countries(lat, lon, tolerance_km=0.0) == ""
    lat, lon = lat[at_sea][:300], lon[at_sea][:300]
    bulk = geo.assign_countries(lat, lon, tolerance_km=25.0)
    for la, lo, code in zip(lat, lon, bulk):
        near, km = geo.nearest_country(la, lo)
        if km < 24.5:
            assert code == near, (la, lo)
        elif km > 25.5:
            assert code == "", (la, lo)


def test_the_uk_base_areas_on_cyprus_count_as_cyprus_and_guantanamo_as_cuba():
    countries = geo.load_countries()
    for name, code in [("Dhekelia Cantonment", "CY"), ("Akrotiri Sovereign Base Area", "CY"),
                       ("Guantanamo Bay Naval Base", "CU")]:
        rows = countries[countries["name"] == name]
        assert rows["iso2"].tolist() == [code]
        inside = rows.geometry.iloc[0].representative_point()
        assert geo.assign_countries([inside.y], [inside.x], tolerance_km=0.0)[0] == code


def test_features_without_a_usable_code_are_dropped():
    names = set(geo.load_countries()["name"])
    assert not names & {"Bir Tawil", "Spratly Islands", "Wake Island", "Scarborough Shoal"}


def test_load_countries_has_clean_iso_codes_names_and_valid_geometries():
    countries = geo.load_countries()
    assert list(countries.columns) == ["iso2", "name", "continent", "subregion", "geometry"]
    assert countries.crs.to_epsg() == 4326
    assert len(countries) == 247
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in countries["iso2"])
    codes = set(countries["iso2"])
    assert {"FR", "NO", "XK", "GB", "CY", "CU"} <= codes
    assert "Åland" in set(countries["name"])  # UTF-8 attributes, not mojibake
    assert countries.geometry.is_valid.all()
    assert geo.load_countries() is countries  # cached in-process


def test_the_prepared_data_round_trips_through_the_disk_cache(tmp_path):
    prepared = geo._prepared()
    path = tmp_path / "cache.npz"
    geo._save(prepared, path)
    again = geo._load(path)
    assert again.iso2.tolist() == prepared.iso2.tolist()
    assert again.piece_feature.tolist() == prepared.piece_feature.tolist()
    assert again.piece_wkb.tolist() == prepared.piece_wkb.tolist()
    assert again.mercator_wkb[-1] == prepared.mercator_wkb[-1]


def test_the_cache_directory_comes_from_geo_cache_dir_and_an_empty_value_turns_it_off(monkeypatch, tmp_path):
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path))
    assert geo._cache_path().parent == tmp_path
    assert geo._package_version() in geo._cache_path().name
    monkeypatch.setenv("GEO_CACHE_DIR", "")
    assert geo._cache_path() is None


# --------------------------------------------------------------------------- swapped lat/lon


def _read_lufop(path):
    lon, lat, name = [], [], []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            # One row has 5 fields (badly escaped quotes); the first two are fine.
            lon.append(float(row[0]))
            lat.append(float(row[1]))
            name.append(row[2])
    return np.array(lat), np.array(lon), np.array(name)


@pytest.mark.realdata
def test_the_lufop_garmin_file_has_exactly_its_13927_zone_points_swapped_back(shared):
    lat, lon, name = _read_lufop(shared("eu_lufop_gatso_all_2021-08-06_garmin.csv"))
    assert len(lat) == 40_667
    zone_point = np.isin(name, ["max =", "max !"])
    countries = geo.assign_countries(lat, lon)
    lat2, lon2, countries2, swapped = geo.fix_swapped(lat, lon, countries)
    assert swapped.sum() == 13_927
    assert (swapped == zone_point).all()
    assert (lat2[swapped] == lon[swapped]).all() and (lon2[swapped] == lat[swapped]).all()
    assert (lat2[~swapped] == lat[~swapped]).all()
    assert (countries2 == geo.assign_countries(lat2, lon2)).all()
    europe = set(REGIONS["europe"].countries)  # FR includes the overseas departements
    assert np.isin(countries2, sorted(europe)).mean() > 0.99
    assert (countries2[swapped] != "").all()


@pytest.mark.realdata
def test_french_radars_overseas_are_not_taken_for_swapped_coordinates(shared):
    with open(shared("fr_radars_automatiques_2023-04-26.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    lat = np.array([float(r["latitude"]) for r in rows])
    lon = np.array([float(r["longitude"]) for r in rows])
    overseas = np.array([len(r["departement"]) == 3 for r in rows])
    assert overseas.sum() == 81 and lat.min() < -21
    countries = geo.assign_countries(lat, lon)
    assert (countries[overseas] == "FR").all()
    _, _, countries2, swapped = geo.fix_swapped(lat, lon, countries)
    assert not swapped.any()
    assert (countries2 == countries).all()


def _france_mainland(n, seed=3):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(43.5, 49.5, 4 * n), rng.uniform(-1.0, 6.5, 4 * n)
    keep = geo.assign_countries(lat, lon, tolerance_km=0.0) == "FR"
    return lat[keep][:n], lon[keep][:n]


def test_swapped_rows_in_a_french_file_are_fixed_but_reunion_and_guadeloupe_are_left_alone():
    lat, lon = _france_mainland(2_000)
    overseas_lat = np.array([-20.8821, -21.3393, -21.0095, 16.2411, 16.0, 15.9957])
    overseas_lon = np.array([55.4507, 55.4781, 55.2697, -61.5331, -61.7288, -61.7322])
    swap = np.zeros(len(lat), dtype=bool)
    swap[::5] = True  # 20 % of the mainland points swapped, as in a broken export
    given_lat = np.concatenate([np.where(swap, lon, lat), overseas_lat])
    given_lon = np.concatenate([np.where(swap, lat, lon), overseas_lon])
    expected = np.concatenate([swap, np.zeros(len(overseas_lat), dtype=bool)])
    lat2, lon2, countries2, swapped = geo.fix_swapped(given_lat, given_lon)  # countries computed
    assert (swapped == expected).all()
    assert (countries2 == "FR").all()
    assert (lat2 == np.concatenate([lat, overseas_lat])).all()


def test_a_clean_file_has_nothing_swapped_and_nan_rows_are_ignored():
    lat, lon = _france_mainland(500)
    lat = np.concatenate([lat, [np.nan, 10.0]])
    lon = np.concatenate([lon, [2.0, np.nan]])
    countries = geo.assign_countries(lat, lon)
    lat2, lon2, countries2, swapped = geo.fix_swapped(lat, lon, countries.astype(object))
    assert not swapped.any()
    np.testing.assert_array_equal(lat2, lat)
    assert countries2.tolist() == countries.tolist()
    assert lat2 is not lat  # copies, never the caller's arrays


def test_a_legitimate_rare_country_is_not_swapped_when_its_mirror_lands_nowhere_common():
    lat, lon = _france_mainland(1_000)
    # Three cameras in Luxembourg: rare in this file; read swapped they are in the Indian Ocean.
    lat = np.concatenate([lat, [49.61, 49.75, 49.50]])
    lon = np.concatenate([lon, [6.13, 6.10, 5.98]])
    _, _, countries2, swapped = geo.fix_swapped(lat, lon)
    assert not swapped.any()
    assert countries2[-3:].tolist() == ["LU", "LU", "LU"]


def _in_country(code, lat_range, lon_range, n, seed):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(*lat_range, 20 * n), rng.uniform(*lon_range, 20 * n)
    keep = geo.assign_countries(lat, lon, tolerance_km=0.0) == code
    assert keep.sum() >= n
    return lat[keep][:n], lon[keep][:n]


def test_qatar_cameras_in_a_clean_file_stay_although_their_mirror_image_is_in_ukraine():
    # Rare (0.6 %), and read swapped every one lands in Ukraine, a country common in the
    # file: the plain "rare as given, common when swapped" rule would move them. Nothing
    # in the file is at sea, so there is no evidence of swapping.
    fr = _france_mainland(3_000)
    ua = _in_country("UA", (48.0, 52.0), (24.0, 34.0), 1_500, seed=4)
    qa = _in_country("QA", (24.6, 26.1), (50.8, 51.6), 30, seed=5)
    lat, lon = (np.concatenate(parts) for parts in zip(fr, ua, qa))
    assert (geo.assign_countries(qa[1], qa[0]) == "UA").all()  # the mirror images
    _, _, countries2, swapped = geo.fix_swapped(lat, lon)
    assert not swapped.any()
    assert (countries2[-30:] == "QA").all()


def test_a_few_swapped_rows_are_found_when_some_of_them_are_at_sea():
    lat, lon = _france_mainland(4_000)
    swap = np.zeros(len(lat), dtype=bool)
    swap[::200] = True  # 20 rows: read as given, some are in Somalia or Ethiopia, some at sea
    given_lat, given_lon = np.where(swap, lon, lat), np.where(swap, lat, lon)
    countries = geo.assign_countries(given_lat, given_lon)
    assert (countries[swap] == "").any() and (countries[swap] != "").any()
    _, _, countries2, swapped = geo.fix_swapped(given_lat, given_lon, countries)
    assert (swapped == swap).all()
    assert (countries2 == "FR").all()


def test_junk_at_sea_is_not_swapped_into_the_file_when_most_of_it_would_not_land():
    lat, lon = _france_mainland(1_000)
    rng = np.random.default_rng(9)
    junk_lat, junk_lon = rng.uniform(-40, -10, 40), rng.uniform(-30, -5, 40)  # South Atlantic
    junk_lat[:5], junk_lon[:5] = 2.0, 47.0  # but the mirror of (2, 47) is in France
    lat, lon = np.concatenate([lat, junk_lat]), np.concatenate([lon, junk_lon])
    countries = geo.assign_countries(lat, lon)
    assert (countries[-40:] == "").all()
    _, _, _, swapped = geo.fix_swapped(lat, lon, countries)
    assert not swapped.any()
