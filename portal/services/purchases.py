"""Customer panel services: update periods, the latest file of a purchase, what changed since
the customer's last download, coverage and icon changes, recorded downloads.

The views (``portal.views.panel``) stay thin: they check the owner and call these.

Updates: until when an order gets new releases is ``services.entitlement``'s rule. After
that, the file the customer already got stays downloadable, and new releases are not offered.

The latest file. While updates run, the file the panel offers is the package for the latest
release and the order's current device, coverage and options. Its content address is
computed without building anything (``exporters.package.cache_key``): if the package store
holds it (built for this order, or for another order with the same combination) it is
offered at once and recorded on the order; otherwise ``tasks.build_order_package`` is
queued (once per order and package, for ``BUILD_QUEUE_TTL`` seconds) and the panel says
"being built" and polls, while the previous file stays downloadable. The build is never
done inside the request: a world release takes seconds to minutes, and the worker already
builds, retries and records packages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import get_language, gettext as _

from cameras.coverage import CameraIndex, Coverage, CoverageError
from cameras.coverage.fitting import propose_fit
from cameras.coverage.map import render_map
from cameras.distance import haversine_m
from cameras.exporting import latest_release, release_index, sizer
from cameras.models import Release
from exporters.base import ICON_SETS, ExportError, ExportOptions
from exporters.devices import FR_NO_SWAP
from exporters.package import cache_key
from exporters.schema import CameraType

from portal.models import FR_ZONE_MODE_CHOICES, SPEED_UNIT_CHOICES, Download, Order
from portal.services import l10n, naming, queue
from portal.services.packages import StoredPackage, is_stored, order_spec, package_filename, stored_package
from portal.services.entitlement import Updates, updates

BUILD_QUEUE_TTL = 600          # seconds before a queued build of the same package may be queued again
CHANGE_SAMPLE = 10             # cameras listed per kind of change
MAX_CODES = 300                # countries and regions in one coverage


# ---------------------------------------------------------------------------------------
# Purchases and update periods


# A release's changelog is JSON of hundreds of KB for a big release (every camera of a first
# release is "added"), decoded on every load: the panel never shows it, so every query here
# that loads releases leaves it out (Django reads it lazily should anything ask for it).
# Without this one panel page decoded it up to ~20 times (the past downloads' releases) and a
# download twice, which made them the slowest requests under load (benchmarks/bench_load.py).
NO_CHANGELOG = "release__changelog"


def purchases(user) -> list[Order]:
    """The customer's paid orders, oldest first (the selector's order)."""
    return list(Order.objects.filter(user=user, status=Order.Status.PAID).select_related("release")
                .defer(NO_CHANGELOG).order_by("paid_at", "created_at", "pk"))


def owned_order(user, public_id) -> Order | None:
    """The customer's paid order with this id, or None (another customer's, unpaid, refunded)."""
    return (Order.objects.filter(public_id=public_id, user=user, status=Order.Status.PAID)
            .select_related("release").defer(NO_CHANGELOG).first())


# ---------------------------------------------------------------------------------------
# The latest file


@dataclass
class FileState:
    file: StoredPackage | None         # what the customer can download now
    building: bool = False             # a file for a newer release or new settings is on its way
    error: str = ""                    # the build failed (tasks.build_order_package says why)
    latest_release: Release | None = None
    updates: Updates | None = None

    @property
    def current(self) -> bool:
        """The file offered is built from the latest release."""
        return bool(self.file and self.latest_release and self.file.release.pk == self.latest_release.pk)

    @property
    def compared_release(self) -> Release | None:
        """What "what changed" compares with: the latest release while updates run, else
        the release of the file the customer has."""
        if self.updates.active:
            return self.latest_release
        return self.file.release if self.file else None


def wanted_key(order: Order, release: Release) -> str:
    device, coverage, options = order_spec(order)
    return cache_key(release.sha256, device, coverage.labels(), options)


def queue_build(order: Order, key: str) -> bool:
    """Queue the order's package build once per (order, package) per BUILD_QUEUE_TTL."""
    if not cache.add(f"panel:build:{order.pk}:{key}", 1, BUILD_QUEUE_TTL):
        return False
    queue.build_order_package(order.pk)  # a broker that is down: logged, recovery re-queues
    return True


def file_state(order: Order, *, queue: bool = True) -> FileState:
    upd = updates(order)
    latest = latest_release(changelog=False, missing_ok=True)
    previous = stored_package(order)
    if not upd.active or latest is None:
        return FileState(previous, latest_release=latest, updates=upd)
    key = wanted_key(order, latest)
    if is_stored(key):
        device = order_spec(order)[0]
        if order.package_key != key or order.release_id != latest.pk:
            size = StoredPackage(key, latest, "").size
            Order.objects.filter(pk=order.pk).update(package_key=key, release=latest, package_bytes=size,
                                                     package_error="")
            order.package_key, order.release, order.package_bytes, order.package_error = key, latest, size, ""
        return FileState(StoredPackage(key, latest, package_filename(device, latest)), latest_release=latest,
                         updates=upd)
    if order.package_error:
        return FileState(previous, error=order.package_error, latest_release=latest, updates=upd)
    if queue:
        queue_build(order, key)
    return FileState(previous, building=True, latest_release=latest, updates=upd)


# ---------------------------------------------------------------------------------------
# Downloads (their signed links: services.links)


def record_download(order: Order, key: str, release_number: int, via: str = "panel") -> Download:
    release_id = Release.objects.filter(number=release_number).values_list("pk", flat=True).first()
    return Download.objects.create(order=order, release_id=release_id, package_key=key, via=via)


# ---------------------------------------------------------------------------------------
# What changed since the last download


@dataclass
class Changes:
    since: Release
    since_label: str
    current: Release
    coverage: list[str]
    added: int = 0
    removed: int = 0
    moved: int = 0
    by_country: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.moved)

    @property
    def same_release(self) -> bool:
        return self.since.pk == self.current.pk


def baseline(order: Order) -> tuple[Release | None, str]:
    """The release of the customer's last download; without one, the release their first
    file was built from (the latest one when the order was paid)."""
    last = order.downloads.filter(release__isnull=False).select_related("release").defer(NO_CHANGELOG).first()
    if last is not None:
        return last.release, _("your last download (%(date)s)") % {"date": l10n.date(last.created_at, format="medium")}
    moment = order.fulfilled_at or order.paid_at
    if moment is None:
        return None, ""
    release = latest_release(changelog=False, missing_ok=True, published_by=moment)
    return release, _("the file you received with your purchase")


def _type_name(code: int) -> str:
    try:
        return CameraType(int(code)).label
    except ValueError:
        return str(int(code))


def _sample(index: CameraIndex, rows: np.ndarray, distance: np.ndarray | None = None) -> list[dict]:
    cams = index.cameras
    out = []
    for n, i in enumerate(rows[:CHANGE_SAMPLE]):
        speed = int(cams["speed"][i])
        item = {"id": int(cams["id"][i]), "type": _type_name(cams["type"][i]), "country": str(cams["country"][i]),
                "road": str(cams["road"][i]), "speed": speed or None,
                "lat": round(float(index.lat[i]), 5), "lon": round(float(index.lon[i]), 5)}
        if distance is not None:
            item["moved_m"] = round(float(distance[n]))
        out.append(item)
    return out


def _coverage_key(coverage: Coverage) -> str:
    return hashlib.sha256("|".join(coverage.labels()).encode()).hexdigest()[:24]


def _changed_rows(prev: CameraIndex, cur: CameraIndex, coverage: Coverage):
    """Rows (into each index) of the cameras added, removed and moved within the coverage."""
    pm, cm = np.flatnonzero(coverage.mask(prev)), np.flatnonzero(coverage.mask(cur))
    pids, cids = prev.cameras["id"][pm], cur.cameras["id"][cm]
    _common, ip, ic = np.intersect1d(pids, cids, assume_unique=True, return_indices=True)
    added = np.ones(len(cm), dtype=bool)
    added[ic] = False
    removed = np.ones(len(pm), dtype=bool)
    removed[ip] = False
    distance = haversine_m(prev.lat[pm[ip]], prev.lon[pm[ip]], cur.lat[cm[ic]], cur.lon[cm[ic]])
    moved = distance > settings.RELEASE_MOVED_THRESHOLD_M
    return cm[added], pm[removed], cm[ic[moved]], distance[moved]


def changes(order: Order, current: Release | None) -> Changes | None:
    """Cameras added, removed and moved in the order's coverage between the release of the
    last download and ``current`` (snapshots compared, not the per-release changelogs,
    so several releases in between add up correctly)."""
    since, label = baseline(order)
    if since is None or current is None:
        return None
    _device, coverage, _options = order_spec(order)
    result = Changes(since, label, current, coverage.labels())
    if since.pk == current.pk:
        return result
    key = f"panel:changes:{since.sha256}:{current.sha256}:{_coverage_key(coverage)}"
    cached = cache.get(key)
    if cached is not None:
        for name, value in cached.items():
            setattr(result, name, value)
        return result
    prev, cur = release_index(since), release_index(current)
    added, removed, moved, distance = _changed_rows(prev, cur, coverage)
    by_country: dict[str, dict[str, int]] = {}
    for kind, index, rows in (("added", cur, added), ("removed", prev, removed), ("moved", cur, moved)):
        codes, counts = np.unique(index.cameras["country"][rows].astype(str), return_counts=True)
        for code, n in zip(codes.tolist(), counts.tolist()):
            by_country.setdefault(code, {"added": 0, "removed": 0, "moved": 0})[kind] = n
    values = {"added": int(len(added)), "removed": int(len(removed)), "moved": int(len(moved)),
              "by_country": dict(sorted(by_country.items(), key=lambda kv: -sum(kv[1].values()))),
              "samples": {"added": _sample(cur, added), "removed": _sample(prev, removed),
                          "moved": _sample(cur, moved, distance)}}
    cache.set(key, values, 24 * 3600)
    for name, value in values.items():
        setattr(result, name, value)
    return result


def changes_map(order: Order, current: Release, width: int = 480, height: int = 300) -> bytes | None:
    """A small PNG of the changes: the coverage's countries, the added and moved cameras in
    colour (the others grey), zoomed to them."""
    since, _label = baseline(order)
    if since is None:
        return None
    _device, coverage, _options = order_spec(order)
    # the map's texts are in the page's language
    key = (f"panel:changes-map:{since.sha256}:{current.sha256}:{_coverage_key(coverage)}:{width}x{height}"
           f":{get_language() or 'en'}")
    png = cache.get(key)
    if png is not None:
        return png
    prev, cur = release_index(since), release_index(current)
    added, removed, moved, _distance = _changed_rows(prev, cur, coverage)
    mask = np.zeros(len(cur), dtype=bool)
    mask[added] = True
    mask[moved] = True
    if not mask.any():
        mask = coverage.mask(cur)
    title = (_("Release %(since)s to %(current)s: +%(added)s -%(removed)s, %(moved)s moved") % {
                 "since": since.number, "current": current.number, "added": l10n.number(len(added)),
                 "removed": l10n.number(len(removed)), "moved": l10n.number(len(moved))}
             if since.pk != current.pk else _("Release %(number)s: no changes") % {"number": current.number})
    png = render_map(cur, coverage, mask, title=title, lines=[_("coloured: cameras added or moved in your coverage")],
                     width=width, height=height)
    cache.set(key, png, 24 * 3600)
    return png


# ---------------------------------------------------------------------------------------
# Coverage setup and icons


class PanelError(ValueError):
    """A change the panel refuses; the message says why."""


def editable(order: Order) -> str:
    """Why the order's file settings cannot change now ('' when they can)."""
    upd = updates(order)
    if not upd.active:
        return (_("Your updates ended on %(date)s: new files are not built any more, so the coverage and icons of "
                  "this purchase cannot change.") % {"date": l10n.date(upd.until)}
                if upd.until else _("This purchase has no updates."))
    return ""


def parse_codes(codes: list[str]) -> Coverage:
    codes = [c.strip() for c in codes if c and c.strip()]
    if not codes:
        raise CoverageError(_("choose at least one country or region"))
    if len(codes) > MAX_CODES:
        raise CoverageError(_("at most %(count)s countries and regions") % {"count": MAX_CODES})
    return Coverage.parse(codes)


def _options(order: Order) -> ExportOptions:
    """The order's options for sizing any coverage: the France legal mode as it would apply
    to French cameras (a coverage without them sizes the same either way)."""
    return ExportOptions(mobile=order.mobile, icons=order.icons, speed_unit=order.speed_unit,
                         fr_danger_zones=order.fr_zone_mode == "legal", language=order.customer_language)


def coverage_size(order: Order, coverage: Coverage, release: Release) -> dict:
    device = order_spec(order)[0]
    size = sizer(release, device, _options(order)).size(coverage)
    return {"coverage": coverage.labels(), "cameras": size.cameras, "pois": size.pois, **naming.size_texts(size),
            "bytes": sum(f["bytes"] for f in size.files), "fits": size.fits, "warnings": size.warnings,
            "max_pois": size.max_pois, "max_file_bytes": size.max_file_bytes,
            "largest_file": max((f["bytes"] for f in size.files), default=0),
            "by_country": dict(sorted(size.by_country.items(), key=lambda kv: -kv[1]))}


def coverage_fit(order: Order, core: Coverage, release: Release) -> dict:
    device = order_spec(order)[0]
    fit = propose_fit(lambda opts: sizer(release, device, opts), _options(order), core)
    s = fit.size
    return {"fits": fit.fits, "codes": list(s.coverage.codes), "coverage": s.coverage.labels(),
            "added": [{"country": c, "km": round(km), "cameras": n} for c, km, n in fit.added],
            "summary": fit.summary(), "cuts": fit.cuts, "pois": s.pois, "cameras": s.cameras,
            "bytes": sum(f["bytes"] for f in s.files), "max_pois": s.max_pois, "warnings": s.warnings}


def save_coverage(order: Order, codes: list[str]) -> Order:
    device = order_spec(order)[0]
    if not device.coverage_setup:
        raise PanelError(_("%(device)s takes the default coverage only: %(note)s") % {
            "device": device.name, "note": device.coverage_note})
    why = editable(order)
    if why:
        raise PanelError(why)
    coverage = parse_codes(codes)
    if coverage.corridors or coverage.circles or coverage.exclude_types:
        raise PanelError(_("only countries and regions can be chosen here"))
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        locked.coverage = list(coverage.codes)
        locked.package_error = ""
        locked.save(update_fields=["coverage", "package_error"])
    return locked


def save_icons(order: Order, icons: str) -> Order:
    device = order_spec(order)[0]
    if icons not in ICON_SETS:
        raise PanelError(_("unknown icon set %(value)s; choose one of: %(choices)s") % {
            "value": repr(icons), "choices": ", ".join(ICON_SETS)})
    if icons != "speed" and not device.icon_swap:
        raise PanelError(icon_note(device))
    why = editable(order)
    if why:
        raise PanelError(why)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        locked.icons = icons
        locked.package_error = ""
        locked.save(update_fields=["icons", "package_error"])
    return locked


def save_options(order: Order, speed_unit: str, fr_zone_mode: str) -> Order:
    """The speed unit and the France mode of a purchase; the next file is built with them
    (they are part of the package key, so the file in the store no longer matches)."""
    units = {value for value, _ in SPEED_UNIT_CHOICES}
    modes = {value for value, _ in FR_ZONE_MODE_CHOICES}
    if speed_unit not in units:
        raise PanelError(_("unknown speed unit %(value)s; choose one of: %(choices)s") % {
            "value": repr(speed_unit), "choices": ", ".join(sorted(units))})
    if fr_zone_mode not in modes:
        raise PanelError(_("unknown mode for cameras in France %(value)s; choose one of: %(choices)s") % {
            "value": repr(fr_zone_mode), "choices": ", ".join(sorted(modes))})
    why = editable(order)
    if why:
        raise PanelError(why)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        locked.speed_unit, locked.fr_zone_mode = speed_unit, fr_zone_mode
        locked.package_error = ""
        locked.save(update_fields=["speed_unit", "fr_zone_mode", "package_error"])
    return locked


def icon_note(device) -> str:
    """Why a device cannot switch to the France danger icon set."""
    if FR_NO_SWAP in device.notes:
        return FR_NO_SWAP
    if device.icons is None:
        return (_("%(device)s shows cameras with its own icons, so the France danger icon set cannot be chosen; "
                  "French cameras can still be exported as danger zones.") % {"device": device.name})
    return _("%(device)s cannot swap icon sets.") % {"device": device.name}


def describe_coverage(codes: list[str]) -> str:
    return naming.coverage_name(codes)


def coverage_error(exc: Exception) -> str:
    return str(exc) if isinstance(exc, (CoverageError, ExportError, PanelError)) else _("this coverage cannot be sized")
