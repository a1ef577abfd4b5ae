"""cameras.regions: region slugs, expansion to ISO codes, error messages."""
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cameras import geo
from cameras.regions import ALIASES, EU_MEMBER_STATES, REGIONS, country_names, expand, region_of

CONTINENTS = ["africa", "antarctica", "asia", "europe", "north-america", "south-america", "oceania"]
EUROPEAN_SUBREGIONS = ["western-europe", "eastern-europe", "northern-europe", "southern-europe"]


def _slug(text):
    return text.lower().replace(" ", "-")


def test_every_region_lists_sorted_unique_codes_that_exist_in_the_polygons():
    polygon_codes = set(geo.load_countries()["iso2"])
    for slug, region in REGIONS.items():
        assert region.slug == slug
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", slug)
        assert region.countries == tuple(sorted(set(region.countries))), slug
        assert region.countries, slug
        assert set(region.countries) <= polygon_codes, (slug, set(region.countries) - polygon_codes)


def test_world_is_exactly_the_codes_in_the_polygons_and_has_a_name_for_each():
    polygon_codes = set(geo.load_countries()["iso2"])
    assert set(REGIONS["world"].countries) == polygon_codes
    assert set(country_names()) == polygon_codes
    assert country_names()["GB"] == "United Kingdom"
    assert country_names()["XK"] == "Kosovo"


def test_continents_and_subregions_match_the_natural_earth_attributes():
    table = geo.country_table()  # iso2 -> (name, continent, subregion) of its main polygon
    for slug in CONTINENTS:
        from_data = {c for c, (_, cont, _) in table.items() if _slug(cont) == slug}
        assert from_data <= set(REGIONS[slug].countries), slug
    subregions = {sub for _, _, sub in table.values() if not sub.startswith("Seven seas")}
    for sub in subregions:
        from_data = {c for c, (_, _, s) in table.items() if s == sub}
        assert set(REGIONS[_slug(sub)].countries) == from_data, sub


def test_the_continents_do_not_overlap_and_cover_the_world_but_for_remote_ocean_islands():
    seen = set()
    for slug in CONTINENTS:
        countries = set(REGIONS[slug].countries)
        assert not countries & seen, slug
        seen |= countries
    assert set(REGIONS["world"].countries) - seen == {"GS", "HM", "IO", "TF"}


def test_western_europe_is_natural_earths_nine_countries():
    assert REGIONS["western-europe"].countries == ("AT", "BE", "CH", "DE", "FR", "LI", "LU", "MC", "NL")


def test_europe_contains_every_european_subregion_and_russia_but_not_cyprus_or_turkey():
    europe = set(REGIONS["europe"].countries)
    for slug in EUROPEAN_SUBREGIONS:
        assert set(REGIONS[slug].countries) <= europe, slug
    assert europe == set().union(*(REGIONS[s].countries for s in EUROPEAN_SUBREGIONS))
    assert "RU" in europe
    assert not europe & {"CY", "TR", "GE"}


def test_the_small_named_groups_are_exactly_what_people_mean():
    assert expand(["dach"]) == {"DE", "AT", "CH"}
    assert expand(["benelux"]) == {"BE", "NL", "LU"}
    assert expand(["british-isles"]) == {"GB", "IE", "IM", "JE", "GG"}
    assert expand(["iberia"]) == {"ES", "PT", "AD", "GI"}
    assert expand(["baltics"]) == {"EE", "LV", "LT"}
    assert expand(["scandinavia"]) == {"DK", "NO", "SE"}
    assert expand(["nordic"]) >= expand(["scandinavia"]) | {"FI", "IS"}
    assert expand(["alps"]) == {"AT", "CH", "DE", "FR", "IT", "LI", "MC", "SI"}


def test_the_eu_is_the_27_member_states_plus_aland():
    assert len(EU_MEMBER_STATES) == 27 == len(set(EU_MEMBER_STATES))
    assert expand(["eu"]) == set(EU_MEMBER_STATES) | {"AX"}
    assert not expand(["eu"]) & {"GB", "CH", "NO", "IS", "LI"}
    assert "CY" in expand(["eu"])


def test_expand_mixes_regions_and_countries_in_any_case():
    assert expand(["DACH", "fr", "Be"]) == {"DE", "AT", "CH", "FR", "BE"}
    assert expand("benelux, FR;  dk") == {"BE", "NL", "LU", "FR", "DK"}
    assert expand(["uk", "GB"]) == {"GB"}
    assert expand([]) == frozenset()
    assert isinstance(expand(["fr"]), frozenset)


def test_an_unknown_region_names_the_close_match():
    with pytest.raises(ValueError, match="did you mean western-europe") as error:
        expand(["dach", "westren-europe"])
    assert "unknown country or region 'westren-europe'" in str(error.value)


def test_a_misspelt_country_name_suggests_its_code():
    with pytest.raises(ValueError, match=r"did you mean DE \(Germany\)"):
        expand(["germny"])


def test_an_unknown_code_without_close_matches_explains_what_is_expected():
    with pytest.raises(ValueError, match="ISO 3166-1 alpha-2 code"):
        expand(["QQQQQQQ"])
    with pytest.raises(TypeError):
        expand([None])


def test_region_of_lists_every_region_containing_a_country():
    assert region_of("de") == ["world", "europe", "western-europe", "dach", "alps", "central-europe", "eu",
                              "europe-no-ch", "central-europe-no-ch", "world-no-ch"]
    assert "british-isles" in region_of("GB") and "eu" not in region_of("GB")
    assert region_of("UK") == region_of("GB")
    with pytest.raises(ValueError, match="did you mean"):
        region_of("Frnce")


TOKENS = st.sampled_from(sorted(REGIONS) + sorted(country_names()) + sorted(ALIASES)).flatmap(
    lambda t: st.sampled_from([t, t.upper(), t.lower(), t.title()])
)


@given(st.lists(TOKENS, max_size=8), st.lists(TOKENS, max_size=8))
def test_expanding_a_union_is_the_union_of_the_expansions(a, b):
    assert expand(a + b) == expand(a) | expand(b)
