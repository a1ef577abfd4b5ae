"""``{% device_facts device as facts %}``: what the shop's device page says a device gets,
worked out from the catalog and the exporter rather than written per device.

- ``files``: the file names of a real render of a few example cameras in the device's
  typical coverage (its default region), so the page shows the names the device gets (in
  mph where the coverage has mph countries); ``other_files`` counts the icons and companions;
- ``unit``: the unit the files use for that coverage with the default option ("each
  country's unit"), by how the format carries the limit;
- ``alerts``: what the device does with the cameras (``exporters.devices.FORMAT_ALERTS``);
- ``france``: whether the typical coverage includes France (the page then explains the
  legal mode), ``france_possible`` whether a chosen coverage can;
- the sources of the format and of the limits (``Device.sources``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django import template
from django.utils.translation import get_language, gettext as _, ngettext

from cameras.coverage import Coverage, CoverageError
from exporters.base import CameraSet, ExportOptions
from exporters.devices import Device, Source
from exporters.schema import CameraType, Kind
from exporters.units import MPH_COUNTRIES
from portal.services import naming

register = template.Library()

KMH_FIELD_FORMATS = {"igo", "navitel", "csv"}   # the limit is a km/h field, and nothing else shows it
ONE_UNIT_FORMATS = {"garmin-poi-csv", "gpx", "sygic"}  # one unit for the whole package


@dataclass(frozen=True)
class DeviceFacts:
    coverage_name: str
    files: tuple[str, ...]
    other_files: int
    unit: str
    alerts: str
    france: bool
    france_possible: bool
    limits: tuple[str, ...]
    format_sources: tuple[Source, ...]
    limit_sources: tuple[Source, ...]


@register.simple_tag
def device_facts(device: Device) -> DeviceFacts:
    return facts(device)


def facts(device: Device) -> DeviceFacts:
    """The device's facts in the active language."""
    return _facts(device, get_language() or "en")


@functools.lru_cache(maxsize=256)
def _facts(device: Device, language: str) -> DeviceFacts:   # language: the cache key of the texts
    try:
        countries = Coverage.parse([device.default_coverage]).countries
    except CoverageError:
        countries = frozenset()
    coverage_name = naming.code_name(device.default_coverage)
    mph = sorted(countries & MPH_COUNTRIES)
    files, other = example_files(device, countries)
    return DeviceFacts(coverage_name=coverage_name, files=files, other_files=other,
                       unit=unit_text(device, coverage_name, countries, mph), alerts=device.alerts,
                       france="FR" in countries, france_possible="FR" in countries or device.coverage_setup,
                       limits=limits_text(device), format_sources=device.format_sources,
                       limit_sources=device.limit_sources)


def limits_text(device: Device) -> tuple[str, ...]:
    """The device's limits as the catalog gives them, each with its source or 'assumed'."""
    out = []
    for limit, unit in ((device.max_pois, _("POIs")), (device.max_file_bytes, _("bytes per file")),
                        (device.max_categories, _("categories"))):
        if limit is not None:
            text = limit.describe(unit)
            if limit.hard:
                text = _("%(limit)s; above it the device ignores every POI, so larger coverages are refused") % {
                    "limit": text}
            out.append(text)
    return tuple(out)


def country_list(codes: list[str], most: int = 4) -> str:
    """Country names, the United Kingdom and the United States first, at most ``most`` of them named."""
    names = naming.country_names()
    first = [c for c in ("GB", "US") if c in codes] + [c for c in codes if c not in ("GB", "US")]
    shown = ", ".join(names.get(c, c) for c in first[:most])
    rest = len(first) - most
    if rest <= 0:
        return shown
    return ngettext("%(countries)s and %(count)s other mph country", "%(countries)s and %(count)s other mph countries",
                    rest) % {"countries": shown, "count": rest}


def unit_text(device: Device, coverage_name: str, countries: frozenset[str], mph: list[str]) -> str:
    """The unit of the limits in the files, for the typical coverage, with the default option."""
    if device.format in KMH_FIELD_FORMATS:
        return _("km/h: the format defines its speed field in km/h, whatever the speed-unit option.")
    if not mph:
        unit = "km/h"
    elif set(mph) == set(countries):
        unit = "mph"
    else:
        unit = None
    if device.format in ONE_UNIT_FORMATS:
        if unit is None:
            unit = (_("the unit of most of the package's cameras: km/h, unless most of your coverage's cameras are "
                      "in %(countries)s (mph)") % {"countries": country_list(mph)})
        return (_("one unit for the whole package (the format has one), for %(coverage)s: %(unit)s. Choose km/h or "
                  "mph for every camera with the speed-unit option.") % {"coverage": coverage_name, "unit": unit})
    if unit is None:
        unit = _("km/h, and mph for the cameras in %(countries)s") % {"countries": country_list(mph)}
    if device.exporter().speed_carried_as == "file":
        where = _("names, file names and speed signs")
    elif device.format in ("kml", "kmz"):
        where = _("names and speed signs")
    else:
        where = _("camera names")
    if device.format == "geojson":
        where = _("%(where)s (the data fields stay in km/h, as the format defines)") % {"where": where}
    return (_("each country's own unit in %(where)s, for %(coverage)s: %(unit)s. Choose km/h or mph for every "
              "camera with the speed-unit option.") % {"where": where, "coverage": coverage_name, "unit": unit})


def example_files(device: Device, countries: frozenset[str]) -> tuple[tuple[str, ...], int]:
    """(the names of the POI files a few example cameras give, the number of other files):
    a 50 km/h speed camera and a red-light camera in a km/h country of the coverage, a 30 mph
    camera in an mph country of it, and a mobile camera where the device shows them."""
    kmh_country = "DE" if "DE" in countries else next((c for c in sorted(countries) if c not in MPH_COUNTRIES), "DE")
    mph_country = "GB" if "GB" in countries else next((c for c in sorted(countries) if c in MPH_COUNTRIES), "")
    rows = [dict(id=1, type=CameraType.SPEED, lat=50.1, lon=8.6, speed=50, country=kmh_country, road="A5"),
            dict(id=2, type=CameraType.RED_LIGHT, lat=50.2, lon=8.7, country=kmh_country, road="B3")]
    if mph_country:
        rows.append(dict(id=3, type=CameraType.SPEED, lat=51.5, lon=-0.1, speed=48, country=mph_country, road="A40"))
    if device.mobile:
        rows.append(dict(id=4, type=CameraType.MOBILE_CAMERA, kind=Kind.MOBILE, lat=50.3, lon=8.8, speed=70,
                         country=kmh_country, road="A3"))
    exporter = device.exporter()
    result = exporter.render(CameraSet.from_records(rows), ExportOptions(mobile=device.mobile))
    poi = tuple(sorted(f.name for f in result.files if f.name.endswith(exporter.file_extension)))
    return poi, len(result.files) - len(poi)
