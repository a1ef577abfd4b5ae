"""The price list: every device on sale with its prices (one-time, the mobile option, the
annual subscription), the size of its file for each coverage offered, and the countries each
region holds.

Sizing every device over every coverage takes about a minute on a 200,000-camera release
(building the size model of each format and option set is the slow part;
benchmarks/bench_prices.py). So the sizes are computed once per release by a Celery task, the
first request of the release queueing it, and kept in the cache (shared by every web process;
the key changes with the release); until they are there the page shows the prices and says
the sizes are on their way. The prices are computed on each request: a few additions over
settings."""

from __future__ import annotations

from babel.numbers import format_decimal

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _, gettext_lazy

from cameras import regions
from cameras.coverage import Coverage
from cameras.exporting import sizer
from cameras.models import Release
from exporters.base import ExportError
from exporters.devices import DEVICES, Device

from portal.services import queue
from portal.services.catalog import PRESET_REGIONS, mobile_offered
from portal.services.packages import DEFAULT_OPTIONS, export_options
from portal.services.pricing import BASE_PRICES, MOBILE_SURCHARGE, device_annual_price, format_amount, quote
from portal.services import l10n, naming

log = logging.getLogger(__name__)

KIND_NAMES = {"pnd": gettext_lazy("Navigation devices"), "head-unit": gettext_lazy("Car head units"),
              "app": gettext_lazy("Phone and tablet apps")}
# the same inside a sentence of the pricing rule ("navigation devices €19.90, ...")
KIND_NAMES_INLINE = {"pnd": gettext_lazy("navigation devices"), "head-unit": gettext_lazy("car head units"),
                     "app": gettext_lazy("phone and tablet apps")}
SIZES_TTL = 30 * 24 * 3600  # the key changes with the release; this only bounds a stale entry
QUEUED_TTL = 600


@dataclass(frozen=True)
class RegionInfo:
    slug: str
    name: str
    countries: tuple[str, ...]   # country names, sorted


@dataclass(frozen=True)
class DeviceRow:
    device: Device
    one_time: str
    with_mobile: str             # "" when the device (or the release) has no mobile cameras
    annual: str
    annual_with_mobile: str
    sizes: tuple[str, ...]       # "3.2 MB" per coverage column; "" where the device does not take it


def devices_on_sale() -> list[Device]:
    return sorted((d for d in DEVICES if not d.withdrawn), key=lambda d: (list(KIND_NAMES).index(d.kind), d.name))


def coverages() -> list[str]:
    """The coverage columns: the shop's preset regions, then any device default that is not one."""
    codes = [c for c in PRESET_REGIONS if c in regions.REGIONS]
    for device in devices_on_sale():
        if device.default_coverage not in codes:
            codes.append(device.default_coverage)
    return codes


def region_infos(codes: list[str]) -> list[RegionInfo]:
    names = naming.country_names()
    out = []
    for code in codes:
        region = regions.REGIONS.get(code)
        if region is not None:
            out.append(RegionInfo(code, naming.code_name(code), tuple(sorted(names.get(c, c) for c in region.countries))))
    return out


def _offered(device: Device, code: str) -> bool:
    return device.coverage_setup or code == device.default_coverage


def _size_bytes(device: Device, release: Release, code: str) -> int | None:
    try:
        coverage = Coverage.parse([code])
        options = export_options(coverage, mobile=False, icons=DEFAULT_OPTIONS["icons"],
                                 speed_unit=DEFAULT_OPTIONS["speed_unit"], fr_zone_mode=DEFAULT_OPTIONS["fr_zone_mode"])
        return sum(f["bytes"] for f in sizer(release, device, options).size(coverage).files)
    except (ExportError, ValueError, NotImplementedError) as exc:
        log.warning("price list: sizing %s over %s failed: %s", device.id, code, exc)
        return None


def _sizes_key(release: Release) -> str:
    return f"pricelist:sizes:v1:{release.sha256}"


def sizes(release: Release) -> dict[str, dict[str, int | None]]:
    """{device id: {coverage code: bytes}} with the shop's default options (fixed cameras),
    for the coverages each device takes; computed once per release (the cache). Slow: the
    worker's (``tasks.compute_price_list_sizes``)."""
    table = cache.get(_sizes_key(release))
    if table is None:
        table = {d.id: {code: _size_bytes(d, release, code) for code in coverages() if _offered(d, code)}
                 for d in devices_on_sale()}
        cache.set(_sizes_key(release), table, SIZES_TTL)
    return table


def ready_sizes(release: Release) -> dict[str, dict[str, int | None]] | None:
    """The release's sizes if computed; else None, and their computation is queued (once per
    QUEUED_TTL, so a worker that lost the task is asked again)."""
    table = cache.get(_sizes_key(release))
    if table is None and cache.add(f"pricelist:queued:{release.sha256}", 1, QUEUED_TTL):
        queue.price_list_sizes(release.number)
        table = cache.get(_sizes_key(release))   # a worker running tasks inline has them now
    return table


def rows(release: Release | None, table: dict | None) -> list[tuple[str, list[DeviceRow]]]:
    """The devices by kind, each with its prices and (with the sizes, ``ready_sizes``) its
    size per coverage."""
    currency = settings.SHOP_CURRENCY
    table = table or {}
    codes = coverages()
    grouped: dict[str, list[DeviceRow]] = {}
    for device in devices_on_sale():
        mobile = mobile_offered(device, release)
        device_sizes = table.get(device.id, {})
        grouped.setdefault(device.kind, []).append(DeviceRow(
            device, quote(device, mobile=False).display, quote(device, mobile=True).display if mobile else "",
            format_amount(device_annual_price(device, mobile=False), currency),
            format_amount(device_annual_price(device, mobile=True), currency) if mobile else "",
            tuple(megabytes(device_sizes.get(code)) for code in codes)))
    return [(KIND_NAMES[kind], grouped[kind]) for kind in KIND_NAMES if kind in grouped]


def megabytes(size: int | None) -> str:
    """Decimal megabytes, as devices and file managers show them ("" for no size)."""
    if size is None:
        return ""
    mb = size / 1_000_000
    if mb < 0.1:
        return _("< %(size)s MB") % {"size": format_decimal(0.1, format="#,##0.0", locale=l10n.locale())}
    return _("%(size)s MB") % {"size": format_decimal(mb, format="#,##0.0", locale=l10n.locale())}


def rule() -> dict:
    """The figures the pricing rule is explained with."""
    currency = settings.SHOP_CURRENCY
    base = [(KIND_NAMES[kind], format_amount(amount, currency)) for kind, amount in BASE_PRICES.items()]
    annual = [(KIND_NAMES[kind], format_amount(settings.ANNUAL_PRICES.get(kind, settings.ANNUAL_PRICES["pnd"]),
                                               currency)) for kind in BASE_PRICES]
    return {
        "base": base,
        # the lists inside the rule's sentences; Translators: "navigation devices €19.90"
        "base_text": ", ".join(_("%(kind)s %(amount)s") % {"kind": KIND_NAMES_INLINE[kind], "amount": amount}
                                  for kind, (_name, amount) in zip(BASE_PRICES, base)),
        "annual_text": ", ".join(_("%(kind)s %(amount)s a year") % {"kind": KIND_NAMES_INLINE[kind], "amount": amount}
                                    for kind, (_name, amount) in zip(BASE_PRICES, annual)),
        "mobile": format_amount(MOBILE_SURCHARGE, currency),
        "annual": annual,
        "annual_mobile": format_amount(settings.ANNUAL_MOBILE_SURCHARGE, currency),
        "update_months": settings.UPDATE_MONTHS, "upgrade_days": settings.UPGRADE_DAYS,
    }
