"""Sales regions: stable slugs for groups of countries (ISO 3166-1 alpha-2 codes).

Plain Python, no Django, no data files: the lists are written out below. Continents and
subregions follow Natural Earth 5.1.1 (``CONTINENT``/``SUBREGION`` of the 1:10m admin-0
countries that :mod:`cameras.geo` uses), so every code here is a code that
``cameras.geo.assign_countries`` can return and vice versa (``world``). Consequences worth
knowing:

* Codes are those of the polygons: the UK is ``GB``; Kosovo ``XK``; French overseas
  departements (Guadeloupe, Martinique, Guyane, Réunion, Mayotte) are part of ``FR``, and
  Svalbard of ``NO``, Christmas/Cocos Islands of ``AU``, so GP MQ GF RE YT SJ CX CC and other
  ISO codes without their own polygon (BQ BV TK ...) never occur. That is also why there is
  no ``france-overseas`` region: the data cannot tell Réunion from Paris.
* ``europe`` is Natural Earth's continent: it includes RU (the whole country) and the
  crown dependencies, but not CY, TR, GE, AM, AZ (Asia). CY is in ``eu`` nonetheless.
* Natural Earth's "Seven seas (open ocean)" entries are put on the continent of their
  subregion (MU SC SH: Africa; MV: Asia); GS HM IO TF belong to no continent, only to
  ``world``.
* ``eu`` is the 27 member states plus AX (Åland: part of Finland and of the EU, but its own
  polygon); :data:`EU_MEMBER_STATES` is the plain 27.
* ``scandinavia`` is DK NO SE; ``nordic`` adds FI IS and the autonomous AX FO GL.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterable

from exporters.i18n import gettext_noop


@dataclass(frozen=True)
class Region:
    slug: str
    name: str
    countries: tuple[str, ...]  # sorted ISO 3166-1 alpha-2 codes

    def __contains__(self, iso2: object) -> bool:
        return isinstance(iso2, str) and iso2.upper() in self.countries


_REGIONS = (
    # every code in the polygon data
    Region("world", gettext_noop("World"), (
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW",
        "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN",
        "BO", "BR", "BS", "BT", "BW", "BY", "BZ", "CA", "CD", "CF", "CG", "CH", "CI", "CK",
        "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CY", "CZ", "DE", "DJ", "DK", "DM",
        "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO",
        "FR", "GA", "GB", "GD", "GE", "GG", "GH", "GI", "GL", "GM", "GN", "GQ", "GR", "GS",
        "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM",
        "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI",
        "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS",
        "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM",
        "MN", "MO", "MP", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC",
        "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF",
        "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RO", "RS",
        "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SK", "SL", "SM", "SN",
        "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ",
        "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY",
        "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK", "YE", "ZA", "ZM",
        "ZW",
    )),
    # NE CONTINENT Africa, plus MU SC SH (NE: 'Seven seas', subregion African)
    Region("africa", gettext_noop("Africa"), (
        "AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DJ", "DZ", "EG",
        "EH", "ER", "ET", "GA", "GH", "GM", "GN", "GQ", "GW", "KE", "KM", "LR", "LS", "LY",
        "MA", "MG", "ML", "MR", "MU", "MW", "MZ", "NA", "NE", "NG", "RW", "SC", "SD", "SH",
        "SL", "SN", "SO", "SS", "ST", "SZ", "TD", "TG", "TN", "TZ", "UG", "ZA", "ZM", "ZW",
    )),
    Region("antarctica", gettext_noop("Antarctica"), (
        "AQ",
    )),
    # NE CONTINENT Asia (CY, TR, GE, AM, AZ, KZ are here, not in Europe), plus MV
    Region("asia", gettext_noop("Asia"), (
        "AE", "AF", "AM", "AZ", "BD", "BH", "BN", "BT", "CN", "CY", "GE", "HK", "ID", "IL",
        "IN", "IQ", "IR", "JO", "JP", "KG", "KH", "KP", "KR", "KW", "KZ", "LA", "LB", "LK",
        "MM", "MN", "MO", "MV", "MY", "NP", "OM", "PH", "PK", "PS", "QA", "SA", "SG", "SY",
        "TH", "TJ", "TL", "TM", "TR", "TW", "UZ", "VN", "YE",
    )),
    # NE CONTINENT Europe: 51 codes, RU included (one polygon, Siberia too)
    Region("europe", gettext_noop("Europe"), (
        "AD", "AL", "AT", "AX", "BA", "BE", "BG", "BY", "CH", "CZ", "DE", "DK", "EE", "ES",
        "FI", "FO", "FR", "GB", "GG", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE",
        "LI", "LT", "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO",
        "RS", "RU", "SE", "SI", "SK", "SM", "UA", "VA", "XK",
    )),
    # NE CONTINENT North America: Central America and the Caribbean included
    Region("north-america", gettext_noop("North America"), (
        "AG", "AI", "AW", "BB", "BL", "BM", "BS", "BZ", "CA", "CR", "CU", "CW", "DM", "DO",
        "GD", "GL", "GT", "HN", "HT", "JM", "KN", "KY", "LC", "MF", "MS", "MX", "NI", "PA",
        "PM", "PR", "SV", "SX", "TC", "TT", "UM", "US", "VC", "VG", "VI",
    )),
    # NE CONTINENT South America (= NE SUBREGION South America)
    Region("south-america", gettext_noop("South America"), (
        "AR", "BO", "BR", "CL", "CO", "EC", "FK", "GY", "PE", "PY", "SR", "UY", "VE",
    )),
    Region("oceania", gettext_noop("Oceania"), (
        "AS", "AU", "CK", "FJ", "FM", "GU", "KI", "MH", "MP", "NC", "NF", "NR", "NU", "NZ",
        "PF", "PG", "PN", "PW", "SB", "TO", "TV", "VU", "WF", "WS",
    )),
    # NE SUBREGION Western Europe
    Region("western-europe", gettext_noop("Western Europe"), (
        "AT", "BE", "CH", "DE", "FR", "LI", "LU", "MC", "NL",
    )),
    # NE SUBREGION Eastern Europe
    Region("eastern-europe", gettext_noop("Eastern Europe"), (
        "BG", "BY", "CZ", "HU", "MD", "PL", "RO", "RU", "SK", "UA",
    )),
    # NE SUBREGION Northern Europe
    Region("northern-europe", gettext_noop("Northern Europe"), (
        "AX", "DK", "EE", "FI", "FO", "GB", "GG", "IE", "IM", "IS", "JE", "LT", "LV", "NO",
        "SE",
    )),
    # NE SUBREGION Southern Europe
    Region("southern-europe", gettext_noop("Southern Europe"), (
        "AD", "AL", "BA", "ES", "GI", "GR", "HR", "IT", "ME", "MK", "MT", "PT", "RS", "SI",
        "SM", "VA", "XK",
    )),
    # in the strict sense; FI and IS are in 'nordic'
    Region("scandinavia", gettext_noop("Scandinavia"), (
        "DK", "NO", "SE",
    )),
    # the Nordic Council area: Scandinavia + FI IS and the autonomous AX (Åland), FO (Faroe)
    # and GL (Greenland)
    Region("nordic", gettext_noop("Nordic countries"), (
        "AX", "DK", "FI", "FO", "GL", "IS", "NO", "SE",
    )),
    Region("dach", gettext_noop("DACH"), (
        "AT", "CH", "DE",
    )),
    Region("benelux", gettext_noop("Benelux"), (
        "BE", "LU", "NL",
    )),
    # with the Crown Dependencies (Channel Islands included)
    Region("british-isles", gettext_noop("British Isles"), (
        "GB", "GG", "IE", "IM", "JE",
    )),
    Region("iberia", gettext_noop("Iberian Peninsula"), (
        "AD", "ES", "GI", "PT",
    )),
    Region("baltics", gettext_noop("Baltic states"), (
        "EE", "LT", "LV",
    )),
    # countries (mostly) on the Balkan peninsula; RO and TR (mostly outside it) excluded
    Region("balkans", gettext_noop("Balkans"), (
        "AL", "BA", "BG", "GR", "HR", "ME", "MK", "RS", "SI", "XK",
    )),
    # the EU's term: ex-Yugoslavia minus HR and SI, plus AL
    Region("western-balkans", gettext_noop("Western Balkans"), (
        "AL", "BA", "ME", "MK", "RS", "XK",
    )),
    # the eight Alpine Convention states
    Region("alps", gettext_noop("Alps"), (
        "AT", "CH", "DE", "FR", "IT", "LI", "MC", "SI",
    )),
    Region("central-europe", gettext_noop("Central Europe"), (
        "AT", "CH", "CZ", "DE", "HU", "LI", "PL", "SI", "SK",
    )),
    # the 27 member states, plus AX: Åland is part of Finland and of the EU but its own polygon
    Region("eu", gettext_noop("European Union"), (
        "AT", "AX", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR",
        "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    )),
    # NE SUBREGION Northern Africa
    Region("northern-africa", gettext_noop("Northern Africa"), (
        "DZ", "EG", "EH", "LY", "MA", "SD", "TN",
    )),
    # NE SUBREGION Western Africa
    Region("western-africa", gettext_noop("Western Africa"), (
        "BF", "BJ", "CI", "CV", "GH", "GM", "GN", "GW", "LR", "ML", "MR", "NE", "NG", "SH",
        "SL", "SN", "TG",
    )),
    # NE SUBREGION Middle Africa
    Region("middle-africa", gettext_noop("Middle Africa"), (
        "AO", "CD", "CF", "CG", "CM", "GA", "GQ", "ST", "TD",
    )),
    # NE SUBREGION Eastern Africa
    Region("eastern-africa", gettext_noop("Eastern Africa"), (
        "BI", "DJ", "ER", "ET", "KE", "KM", "MG", "MU", "MW", "MZ", "RW", "SC", "SO", "SS",
        "TZ", "UG", "ZM", "ZW",
    )),
    # NE SUBREGION Southern Africa
    Region("southern-africa", gettext_noop("Southern Africa"), (
        "BW", "LS", "NA", "SZ", "ZA",
    )),
    # NE SUBREGION Western Asia
    Region("western-asia", gettext_noop("Western Asia"), (
        "AE", "AM", "AZ", "BH", "CY", "GE", "IL", "IQ", "JO", "KW", "LB", "OM", "PS", "QA",
        "SA", "SY", "TR", "YE",
    )),
    # NE SUBREGION Central Asia
    Region("central-asia", gettext_noop("Central Asia"), (
        "KG", "KZ", "TJ", "TM", "UZ",
    )),
    # NE SUBREGION Southern Asia
    Region("southern-asia", gettext_noop("Southern Asia"), (
        "AF", "BD", "BT", "IN", "IR", "LK", "MV", "NP", "PK",
    )),
    # NE SUBREGION Eastern Asia
    Region("eastern-asia", gettext_noop("Eastern Asia"), (
        "CN", "HK", "JP", "KP", "KR", "MN", "MO", "TW",
    )),
    # NE SUBREGION South-Eastern Asia
    Region("south-eastern-asia", gettext_noop("South-Eastern Asia"), (
        "BN", "ID", "KH", "LA", "MM", "MY", "PH", "SG", "TH", "TL", "VN",
    )),
    # NE SUBREGION Northern America
    Region("northern-america", gettext_noop("Northern America"), (
        "BM", "CA", "GL", "PM", "US",
    )),
    # NE SUBREGION Central America
    Region("central-america", gettext_noop("Central America"), (
        "BZ", "CR", "GT", "HN", "MX", "NI", "PA", "SV",
    )),
    # NE SUBREGION Caribbean
    Region("caribbean", gettext_noop("Caribbean"), (
        "AG", "AI", "AW", "BB", "BL", "BS", "CU", "CW", "DM", "DO", "GD", "HT", "JM", "KN",
        "KY", "LC", "MF", "MS", "PR", "SX", "TC", "TT", "VC", "VG", "VI",
    )),
    # NE SUBREGION Australia and New Zealand
    Region("australia-and-new-zealand", gettext_noop("Australia and New Zealand"), (
        "AU", "NF", "NZ",
    )),
    # NE SUBREGION Melanesia
    Region("melanesia", gettext_noop("Melanesia"), (
        "FJ", "NC", "PG", "SB", "VU",
    )),
    # NE SUBREGION Micronesia
    Region("micronesia", gettext_noop("Micronesia"), (
        "FM", "GU", "KI", "MH", "MP", "NR", "PW",
    )),
    # NE SUBREGION Polynesia
    Region("polynesia", gettext_noop("Polynesia"), (
        "AS", "CK", "NU", "PF", "PN", "TO", "TV", "WF", "WS",
    )),
)



#: The name of a region less CH (marked for translation: ``portal.services.naming.code_name``).
WITHOUT_SWITZERLAND = gettext_noop("%(region)s without Switzerland")


def _without_switzerland(region: Region) -> Region:
    """``region`` less CH: the catalog's default coverages (warning of controls is an offence
    in Switzerland, SVG Art. 98a: ``cameras.legal``), so Swiss cameras are only sold to a
    customer who chooses Switzerland (or a region holding it) and acknowledges the note."""
    return Region(f"{region.slug}-no-ch", WITHOUT_SWITZERLAND % {"region": region.name},
                  tuple(c for c in region.countries if c != "CH"))


_BY_SLUG = {r.slug: r for r in _REGIONS}

#: slug -> Region, in a stable order (world, continents, European groups, other subregions,
#: then the default coverages without Switzerland).
REGIONS: dict[str, Region] = {r.slug: r for r in (*_REGIONS, *(_without_switzerland(_BY_SLUG[slug])
                                                                 for slug in ("europe", "central-europe", "world")))}

#: The 27 EU member states (2020-), without Åland.
EU_MEMBER_STATES: tuple[str, ...] = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)

#: Other spellings accepted by :func:`expand` (lower case) -> ISO code.
ALIASES: dict[str, str] = {"uk": "GB"}

#: ISO code -> English name (Natural Earth NAME_EN, a few shortened to the usual form).
_COUNTRY_NAMES: dict[str, str] = {
    "AD": "Andorra",
    "AE": "United Arab Emirates",
    "AF": "Afghanistan",
    "AG": "Antigua and Barbuda",
    "AI": "Anguilla",
    "AL": "Albania",
    "AM": "Armenia",
    "AO": "Angola",
    "AQ": "Antarctica",
    "AR": "Argentina",
    "AS": "American Samoa",
    "AT": "Austria",
    "AU": "Australia",
    "AW": "Aruba",
    "AX": "Åland",
    "AZ": "Azerbaijan",
    "BA": "Bosnia and Herzegovina",
    "BB": "Barbados",
    "BD": "Bangladesh",
    "BE": "Belgium",
    "BF": "Burkina Faso",
    "BG": "Bulgaria",
    "BH": "Bahrain",
    "BI": "Burundi",
    "BJ": "Benin",
    "BL": "Saint Barthélemy",
    "BM": "Bermuda",
    "BN": "Brunei",
    "BO": "Bolivia",
    "BR": "Brazil",
    "BS": "Bahamas",
    "BT": "Bhutan",
    "BW": "Botswana",
    "BY": "Belarus",
    "BZ": "Belize",
    "CA": "Canada",
    "CD": "Democratic Republic of the Congo",
    "CF": "Central African Republic",
    "CG": "Republic of the Congo",
    "CH": "Switzerland",
    "CI": "Côte d'Ivoire",
    "CK": "Cook Islands",
    "CL": "Chile",
    "CM": "Cameroon",
    "CN": "China",
    "CO": "Colombia",
    "CR": "Costa Rica",
    "CU": "Cuba",
    "CV": "Cabo Verde",
    "CW": "Curaçao",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DJ": "Djibouti",
    "DK": "Denmark",
    "DM": "Dominica",
    "DO": "Dominican Republic",
    "DZ": "Algeria",
    "EC": "Ecuador",
    "EE": "Estonia",
    "EG": "Egypt",
    "EH": "Western Sahara",
    "ER": "Eritrea",
    "ES": "Spain",
    "ET": "Ethiopia",
    "FI": "Finland",
    "FJ": "Fiji",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "FO": "Faroe Islands",
    "FR": "France",
    "GA": "Gabon",
    "GB": "United Kingdom",
    "GD": "Grenada",
    "GE": "Georgia",
    "GG": "Guernsey",
    "GH": "Ghana",
    "GI": "Gibraltar",
    "GL": "Greenland",
    "GM": "Gambia",
    "GN": "Guinea",
    "GQ": "Equatorial Guinea",
    "GR": "Greece",
    "GS": "South Georgia and the South Sandwich Islands",
    "GT": "Guatemala",
    "GU": "Guam",
    "GW": "Guinea-Bissau",
    "GY": "Guyana",
    "HK": "Hong Kong",
    "HM": "Heard Island and McDonald Islands",
    "HN": "Honduras",
    "HR": "Croatia",
    "HT": "Haiti",
    "HU": "Hungary",
    "ID": "Indonesia",
    "IE": "Ireland",
    "IL": "Israel",
    "IM": "Isle of Man",
    "IN": "India",
    "IO": "British Indian Ocean Territory",
    "IQ": "Iraq",
    "IR": "Iran",
    "IS": "Iceland",
    "IT": "Italy",
    "JE": "Jersey",
    "JM": "Jamaica",
    "JO": "Jordan",
    "JP": "Japan",
    "KE": "Kenya",
    "KG": "Kyrgyzstan",
    "KH": "Cambodia",
    "KI": "Kiribati",
    "KM": "Comoros",
    "KN": "Saint Kitts and Nevis",
    "KP": "North Korea",
    "KR": "South Korea",
    "KW": "Kuwait",
    "KY": "Cayman Islands",
    "KZ": "Kazakhstan",
    "LA": "Laos",
    "LB": "Lebanon",
    "LC": "Saint Lucia",
    "LI": "Liechtenstein",
    "LK": "Sri Lanka",
    "LR": "Liberia",
    "LS": "Lesotho",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "LY": "Libya",
    "MA": "Morocco",
    "MC": "Monaco",
    "MD": "Moldova",
    "ME": "Montenegro",
    "MF": "Saint Martin",
    "MG": "Madagascar",
    "MH": "Marshall Islands",
    "MK": "North Macedonia",
    "ML": "Mali",
    "MM": "Myanmar",
    "MN": "Mongolia",
    "MO": "Macao",
    "MP": "Northern Mariana Islands",
    "MR": "Mauritania",
    "MS": "Montserrat",
    "MT": "Malta",
    "MU": "Mauritius",
    "MV": "Maldives",
    "MW": "Malawi",
    "MX": "Mexico",
    "MY": "Malaysia",
    "MZ": "Mozambique",
    "NA": "Namibia",
    "NC": "New Caledonia",
    "NE": "Niger",
    "NF": "Norfolk Island",
    "NG": "Nigeria",
    "NI": "Nicaragua",
    "NL": "Netherlands",
    "NO": "Norway",
    "NP": "Nepal",
    "NR": "Nauru",
    "NU": "Niue",
    "NZ": "New Zealand",
    "OM": "Oman",
    "PA": "Panama",
    "PE": "Peru",
    "PF": "French Polynesia",
    "PG": "Papua New Guinea",
    "PH": "Philippines",
    "PK": "Pakistan",
    "PL": "Poland",
    "PM": "Saint Pierre and Miquelon",
    "PN": "Pitcairn Islands",
    "PR": "Puerto Rico",
    "PS": "Palestine",
    "PT": "Portugal",
    "PW": "Palau",
    "PY": "Paraguay",
    "QA": "Qatar",
    "RO": "Romania",
    "RS": "Serbia",
    "RU": "Russia",
    "RW": "Rwanda",
    "SA": "Saudi Arabia",
    "SB": "Solomon Islands",
    "SC": "Seychelles",
    "SD": "Sudan",
    "SE": "Sweden",
    "SG": "Singapore",
    "SH": "Saint Helena",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "SL": "Sierra Leone",
    "SM": "San Marino",
    "SN": "Senegal",
    "SO": "Somalia",
    "SR": "Suriname",
    "SS": "South Sudan",
    "ST": "São Tomé and Príncipe",
    "SV": "El Salvador",
    "SX": "Sint Maarten",
    "SY": "Syria",
    "SZ": "Eswatini",
    "TC": "Turks and Caicos Islands",
    "TD": "Chad",
    "TF": "French Southern and Antarctic Lands",
    "TG": "Togo",
    "TH": "Thailand",
    "TJ": "Tajikistan",
    "TL": "Timor-Leste",
    "TM": "Turkmenistan",
    "TN": "Tunisia",
    "TO": "Tonga",
    "TR": "Turkey",
    "TT": "Trinidad and Tobago",
    "TV": "Tuvalu",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "UA": "Ukraine",
    "UG": "Uganda",
    "UM": "United States Minor Outlying Islands",
    "US": "United States",
    "UY": "Uruguay",
    "UZ": "Uzbekistan",
    "VA": "Vatican City",
    "VC": "Saint Vincent and the Grenadines",
    "VE": "Venezuela",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
    "VN": "Vietnam",
    "VU": "Vanuatu",
    "WF": "Wallis and Futuna",
    "WS": "Samoa",
    "XK": "Kosovo",
    "YE": "Yemen",
    "ZA": "South Africa",
    "ZM": "Zambia",
    "ZW": "Zimbabwe",
}


def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English name, for every code in the polygon data."""
    return dict(_COUNTRY_NAMES)


def _suggestions(token: str) -> list[str]:
    pool: dict[str, str] = {}
    for slug in REGIONS:
        pool.setdefault(slug, slug)
    for code, name in _COUNTRY_NAMES.items():
        pool.setdefault(code.lower(), code)
        pool.setdefault(name.lower(), f"{code} ({name})")
    for alias, code in ALIASES.items():
        pool.setdefault(alias, alias)
    out: list[str] = []
    for key in difflib.get_close_matches(token.lower(), list(pool), n=5, cutoff=0.6):
        if pool[key] not in out:
            out.append(pool[key])
    return out[:3]


def _unknown(token: str) -> str:
    hint = _suggestions(token)
    if not hint:
        return (f"unknown country or region {token!r} (use an ISO 3166-1 alpha-2 code such as DE "
                f"or a region slug such as dach)")
    options = hint[0] if len(hint) == 1 else ", ".join(hint[:-1]) + " or " + hint[-1]
    return f"unknown country or region {token!r}; did you mean {options}?"


def _code(token: str) -> str | None:
    """The ISO code for a country token (any case, or an alias), None if it is not one."""
    upper = token.upper()
    if upper in _COUNTRY_NAMES:
        return upper
    return ALIASES.get(token.lower())


def expand(codes: Iterable[str] | str) -> frozenset[str]:
    """The set of ISO codes meant by region slugs and/or country codes (case-insensitive).

    ``expand(["dach", "fr"]) == {"AT", "CH", "DE", "FR"}``. A single string is split on
    commas and whitespace (``expand("benelux, FR")``). Unknown entries raise ValueError
    naming close matches: "unknown country or region 'westren-europe'; did you mean
    western-europe?".
    """
    if isinstance(codes, str):
        codes = re.split(r"[\s,;]+", codes)
    result: set[str] = set()
    errors: list[str] = []
    for raw in codes:
        if not isinstance(raw, str):
            raise TypeError(f"country or region codes must be strings, not {type(raw).__name__}")
        token = raw.strip()
        if not token:
            continue
        region = REGIONS.get(token.lower())
        if region is not None:
            result.update(region.countries)
            continue
        code = _code(token)
        if code is None:
            errors.append(_unknown(token))
        else:
            result.add(code)
    if errors:
        raise ValueError("; ".join(errors))
    return frozenset(result)


def region_of(iso2: str) -> list[str]:
    """Slugs of every region containing the country (``world`` included), in REGIONS order."""
    code = _code(iso2.strip())
    if code is None:
        raise ValueError(_unknown(iso2))
    return [slug for slug, region in REGIONS.items() if code in region.countries]
