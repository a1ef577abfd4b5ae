"""What a customer reads for the codes an order stores: coverage (regions, countries, routes,
home circles, left-out types), icon sets, the France mode, the speed unit, and counts of
cameras. Pages and emails show these names, never the codes (``western-europe``, ``FR``,
``fr-danger``, ``speed``), so every template takes them from here (``{% load names %}``).

"Cameras" is one definition for every page and email: the cameras of the package
(``PackageSize.cameras``, the manifest's ``counts.total``), where a section is one camera,
whatever number of POIs the device's format writes for it (two for iGO, one for TomTom).
The device's POI count appears only next to its POI limit. Counts are worded with
``ngettext`` ("1 camera", "2 cameras"), ready for translation.

Names are in the active language: countries from Babel's (CLDR) territory names, English
ones as ``cameras.regions`` writes them; regions from the catalog (``gettext_noop`` in
``cameras.regions``); numbers through ``l10n``."""

from __future__ import annotations

import functools

import babel
from django.utils import translation
from django.utils.translation import gettext, ngettext

from cameras import regions
from cameras.coverage import Coverage, CoverageError
from exporters.base import ICON_SET_CHOICES, ExportError
from exporters.devices import get_device
from exporters.schema import CameraType

from portal.models import FR_ZONE_MODE_CHOICES, SPEED_UNIT_CHOICES
from portal.services import l10n

ICON_SET_NAMES = dict(ICON_SET_CHOICES)
FR_ZONE_MODE_NAMES = dict(FR_ZONE_MODE_CHOICES)
SPEED_UNIT_NAMES = dict(SPEED_UNIT_CHOICES)


def cameras(count: int | None) -> str:
    """'1 camera', '12,345 cameras' (empty for an unknown count)."""
    if count is None or count == "":
        return ""
    count = int(count)
    return ngettext("%(count)s camera", "%(count)s cameras", count) % {"count": l10n.number(count)}


@functools.lru_cache(maxsize=16)
def _territories(language: str) -> dict[str, str]:
    try:
        return dict(babel.Locale.parse(language.replace("-", "_")).territories)
    except (ValueError, babel.UnknownLocaleError):
        return {}


def country_name(code: str) -> str:
    """The country's name in the active language (Babel's territory name); in English, and for
    a code Babel does not name, the name ``cameras.regions`` gives ("Kosovo", "United States")."""
    english = regions.country_names().get(code, code)
    language = translation.get_language() or "en"
    if language == "en" or language.startswith("en-"):
        return english
    return _territories(language).get(code) or english


def code_name(code: str) -> str:
    """A region slug or a country code, named in the active language."""
    region = regions.REGIONS.get(code)
    if region is None:
        return country_name(code)
    if region.slug.endswith("-no-ch"):
        base = regions.REGIONS.get(region.slug[:-len("-no-ch")])
        if base is not None:
            return gettext(regions.WITHOUT_SWITZERLAND) % {"region": gettext(base.name)}
    return gettext(region.name)


def coverage_name(coverage) -> str:
    """A coverage (a ``Coverage`` or the list an order stores), named: 'Western Europe',
    'France, Belgium', 'a 5 km corridor along your route', 'within 50 km of 48.8566, 2.3522',
    'without level crossings'."""
    if not isinstance(coverage, Coverage):
        codes = [str(c) for c in (coverage or [])]
        try:
            coverage = Coverage.parse(codes)
        except CoverageError:
            return ", ".join(code_name(c) for c in codes)
    parts = [code_name(c) for c in coverage.codes]
    parts += [gettext("a %(km)s km corridor along your route") % {"km": l10n.number(c.km)} for c in coverage.corridors]
    parts += [gettext("within %(km)s km of %(lat)s, %(lon)s") % {"km": l10n.number(c.km), "lat": f"{c.lat:.4f}",
                                                                  "lon": f"{c.lon:.4f}"}
              for c in coverage.circles]
    parts += [gettext("without %(type)s") % {"type": CameraType(t).label.lower()} for t in sorted(coverage.exclude_types)]
    return ", ".join(parts)


def icon_set_name(value: str) -> str:
    """The icon set's name in the active language (the exporters only mark it)."""
    return gettext(ICON_SET_NAMES[value]) if value in ICON_SET_NAMES else value


def fr_zone_mode_name(value: str) -> str:
    return str(FR_ZONE_MODE_NAMES.get(value, value))


def speed_unit_name(value: str) -> str:
    return str(SPEED_UNIT_NAMES.get(value, value))


def device_name(device_id: str) -> str:
    try:
        return get_device(device_id).name
    except ExportError:
        return device_id


def size_texts(size) -> dict:
    """The words for a ``PackageSize`` the pages show live (size.json): the cameras, and the
    device's POIs against its limit where it has one."""
    limit = ""
    if size.max_pois:
        limit = ngettext("%(count)s POI of the %(max)s the device takes", "%(count)s POIs of the %(max)s the device takes",
                         size.pois) % {"count": l10n.number(size.pois), "max": l10n.number(size.max_pois)}
    return {"cameras_text": cameras(size.cameras), "limit_text": limit}


def order_number(order) -> str:
    """The order's reference for the customer: the first 8 characters of its public id, in
    capitals ("3F2A9C1B"), the same on the order page, in the panel and in the emails."""
    return str(order.public_id).replace("-", "")[:8].upper()


def country_names() -> dict[str, str]:
    """Every country code with its name in the active language (``country_name`` for each)."""
    language = translation.get_language() or "en"
    return _country_names(language)


@functools.lru_cache(maxsize=16)
def _country_names(language: str) -> dict[str, str]:
    english = regions.country_names()
    if language == "en" or language.startswith("en-"):
        return dict(english)
    named = _territories(language)
    return {code: named.get(code) or name for code, name in english.items()}

