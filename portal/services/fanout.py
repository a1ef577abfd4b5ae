"""Release fan-out: when a release is published, build the packages customers will ask for.

``plan(release)`` lists the combinations (device, coverage, options) worth building ahead:

- the popular ones: the distinct combinations of the orders still entitled to updates
  (``entitlement.entitled_orders``, the query twin of the panel's rule), ranked by the
  number of orders, the first ``FANOUT_TOP`` (default 50);
- each catalog device's default coverage with default options (``FANOUT_DEFAULTS``), which
  is what the shop's first purchase of a device and the preview of the panel ask for.

A combination is normalised exactly as ``packages.order_spec`` does for an order (the device's
coverage rules, the order's mobile and icon options), so the package a fan-out task builds
has the very cache key the order's own build will look up: that build becomes a store hit.

``schedule(release)`` sends one ``build_combination`` task per combination, taking plain
values (device id, coverage codes, options dict, release number), as a ``celery.group``: the
tasks spread over every worker that consumes the queue, one combination at a time each
(prefetch 1). Each calls ``packages.ensure_package``; the store is content-addressed, so a
combination whose package exists costs one ``stat`` and a second fan-out of an unchanged
release builds nothing. A combination that fails (an option the device refuses, a disk
error) is logged and reported as ``failed``; it never stops the others, and nothing is
retried: the fan-out only warms the store, an order build still builds what is missing.
The group is the header of a chord whose body, ``after_fanout``, logs the counts (built,
from the store, failed) and then queues the new-release emails of the subscribers who asked
for them (``subscriptions.deliver_new_release``, each once: it finds their file in the store).

Priority: on Redis the fan-out tasks are sent with priority ``FANOUT_PRIORITY`` (default 9;
kombu serves 0 first, and tasks sent without a priority are 0), so a customer's order build
or email overtakes a fan-out of a hundred packages instead of waiting behind it. The
filesystem broker of development ignores priorities.

Publishing triggers it: ``cameras.releases.publish_release`` sends ``release_published`` after
its transaction commits; ``on_release_published`` (connected in ``PortalConfig.ready``)
schedules the fan-out unless ``FANOUT_ON_PUBLISH`` is off. ``manage.py fanout`` shows the plan
and schedules it by hand.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.db.models import Count

from cameras.coverage import Coverage
from cameras.exporting import device_coverage, latest_release
from cameras.models import Release
from exporters.base import ExportError, ExportOptions
from exporters.devices import CATALOG, DEVICES, get_device
from exporters.package import cache_key

from portal.services import packages, subscriptions
from portal.services import queue
from portal.services.entitlement import entitled_orders

log = logging.getLogger(__name__)

DEFAULT_TOP = 50
DEFAULT_PRIORITY = 9


def _setting(name: str, default):
    return getattr(settings, name, default)


@dataclass(frozen=True)
class Combination:
    """One package to build: plain values only (they go into the task message)."""

    device_id: str
    coverage: tuple[str, ...]                  # the normalised coverage codes (Coverage.labels())
    options: tuple[tuple[str, object], ...]    # ExportOptions.key() items, sorted
    orders: int = 0                            # entitled orders asking for it
    default: bool = False                      # a catalog device's default combination

    @property
    def ident(self) -> tuple:
        return self.device_id, self.coverage, self.options

    def options_dict(self) -> dict:
        return dict(self.options)

    def spec(self):
        return get_device(self.device_id), Coverage.parse(list(self.coverage)), ExportOptions(**self.options_dict())

    def key(self, release: Release) -> str:
        device, coverage, options = self.spec()
        return cache_key(release.sha256, device, coverage.labels(), options)

    def describe_options(self) -> str:
        defaults = ExportOptions().key()
        changed = [(k, v) for k, v in self.options if defaults.get(k) != v]
        return ", ".join(k if v is True else f"{k}={v}" for k, v in changed) or "-"


def normalise(device_id: str, codes, mobile: bool = False, icons: str = "speed", speed_unit: str = "auto",
              fr_zone_mode: str = "exact", language: str = "en") -> Combination | None:
    """The combination an order with these fields is built as (``packages.order_spec``),
    or None (logged) when it cannot be: a device no longer in the catalog, unknown codes."""
    device = CATALOG.get(device_id)
    if device is None:
        log.warning("fan-out: orders for unknown device %r skipped", device_id)
        return None
    try:
        chosen = Coverage.parse(list(codes)) if codes else None
        coverage, _ = device_coverage(device, chosen)
        options = packages.export_options(coverage, mobile=mobile, icons=icons, speed_unit=speed_unit,
                                          fr_zone_mode=fr_zone_mode, language=language)
    except (ExportError, ValueError) as exc:
        log.warning("fan-out: orders for %s %s skipped: %s", device_id, codes, exc)
        return None
    return Combination(device.id, tuple(coverage.labels()), tuple(sorted(options.key().items())))


def default_combinations() -> list[Combination]:
    """Every catalog device with its default coverage and the options a new purchase has by
    default (``packages.DEFAULT_OPTIONS``: the France legal mode where the coverage has France)."""
    out = []
    for device in DEVICES:
        coverage, _ = device_coverage(device, None)
        options = packages.export_options(coverage, **packages.DEFAULT_OPTIONS)
        out.append(Combination(device.id, tuple(coverage.labels()), tuple(sorted(options.key().items())),
                               default=True))
    return out


# --------------------------------------------------------------------------- ranking


def popular_combinations(now: datetime | None = None, top: int | None = None) -> list[Combination]:
    """The distinct combinations of the entitled orders, most ordered first (ties: by device,
    coverage, options), at most ``top`` (None: all). Counted by the database (GROUP BY), then
    merged in Python where two spellings of a coverage are the same (["BE", "FR"] / ["FR", "BE"])."""
    # the language of INSTALL.txt is the order's ``customer_language``: the account's, else the order's
    fields = ("device_id", "coverage", "mobile", "icons", "speed_unit", "fr_zone_mode", "language", "user__language")
    counts: Counter = Counter()
    combos: dict[tuple, Combination] = {}
    for row in entitled_orders(now).values(*fields).annotate(n=Count("pk")).order_by():
        combo = normalise(row["device_id"], row["coverage"], row["mobile"], row["icons"], row["speed_unit"],
                          row["fr_zone_mode"], row["user__language"] or row["language"] or "en")
        if combo is not None:
            combos.setdefault(combo.ident, combo)
            counts[combo.ident] += row["n"]
    ranked = sorted(counts, key=lambda ident: (-counts[ident], ident[0], ident[1], repr(ident[2])))
    if top is not None:
        ranked = ranked[:max(0, top)]
    return [replace(combos[ident], orders=counts[ident]) for ident in ranked]


def plan(*, top: int | None = None, defaults: bool | None = None, now: datetime | None = None) -> list[Combination]:
    """What a fan-out builds: the ``top`` (``FANOUT_TOP``) popular combinations, then each
    catalog default not already among them (``defaults``: ``FANOUT_DEFAULTS``)."""
    top = _setting("FANOUT_TOP", DEFAULT_TOP) if top is None else top
    defaults = _setting("FANOUT_DEFAULTS", True) if defaults is None else defaults
    combos = popular_combinations(now, top)
    if defaults:
        seen = {c.ident: i for i, c in enumerate(combos)}
        for combo in default_combinations():
            if combo.ident in seen:
                combos[seen[combo.ident]] = replace(combos[seen[combo.ident]], default=True)
            else:
                seen[combo.ident] = len(combos)
                combos.append(combo)
    return combos


# --------------------------------------------------------------------------- scheduling


@dataclass
class Scheduled:
    release: Release
    combinations: list[Combination]
    result: object = None   # the chord's AsyncResult (after_fanout); .parent is the group's GroupResult

    @property
    def group_result(self):
        return getattr(self.result, "parent", None)


def schedule(release: Release | None = None, combinations: list[Combination] | None = None, **plan_args) -> Scheduled:
    """Queue the fan-out of ``release`` (the latest by default): ``combinations``, or ``plan(**plan_args)``."""
    release = release or latest_release(changelog=False)
    combos = plan(**plan_args) if combinations is None else combinations
    if not combos:
        return Scheduled(release, [])
    result = queue.fanout(release.number, [(c.device_id, list(c.coverage), c.options_dict()) for c in combos],
                          int(_setting("FANOUT_PRIORITY", DEFAULT_PRIORITY)))
    log.info("fan-out of release %s: %s combinations scheduled", release.number, len(combos))
    return Scheduled(release, combos, result)


def on_release_published(sender, release: Release, **kwargs) -> None:
    """``cameras.signals.release_published`` receiver (sent after the publish committed)."""
    if not _setting("FANOUT_ON_PUBLISH", True):
        return
    try:
        schedule(release)
    except Exception:  # noqa: BLE001 -- the release is published; an order build still builds its file
        log.exception("fan-out of release %s was not scheduled", release.number)


# --------------------------------------------------------------------------- tasks


# acks_late: a worker that stops mid-build hands the combination back. Not
# reject_on_worker_lost: a combination that kills its worker must not come back for ever,
# and a missing package is only built later, by the order that needs it.
def build_combination(device_id: str, coverage: list[str], options: dict, release_number: int) -> dict:
    """Make sure the store holds this combination's package for the release. Returns what
    happened: status ``built``, ``stored`` (already there: nothing built) or ``failed``."""
    started = time.perf_counter()
    out = {"device": device_id, "coverage": list(coverage), "options": dict(options), "release": release_number}
    try:
        release = Release.objects.get(number=release_number)
        device = get_device(device_id)
        chosen = Coverage.parse(list(coverage))
        opts = ExportOptions(**options)
        existed = packages.is_stored(cache_key(release.sha256, device, chosen.labels(), opts))
        stored = packages.ensure_package(device, chosen, opts, release=release)
    except Exception as exc:  # noqa: BLE001 -- one combination never stops the others
        if isinstance(exc, (ExportError, ValueError, Release.DoesNotExist)):
            log.error("fan-out of release %s: %s %s %s failed: %s", release_number, device_id, coverage, options, exc)
        else:
            log.exception("fan-out of release %s: %s %s %s failed", release_number, device_id, coverage, options)
        return {**out, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                "seconds": round(time.perf_counter() - started, 3)}
    return {**out, "status": "stored" if existed else "built", "key": stored.key, "bytes": stored.size,
            "seconds": round(time.perf_counter() - started, 3)}


def summarise(results) -> dict:
    """{'built': n, 'stored': n, 'failed': n} of build_combination results."""
    counts = Counter(r.get("status", "failed") if isinstance(r, dict) else "failed" for r in results or ())
    return {status: counts.get(status, 0) for status in ("built", "stored", "failed")}


def after_fanout(results, release_number: int) -> dict:
    """The chord's body: log the counts, then queue the subscribers' new-release emails."""
    summary = summarise(results)
    log.info("fan-out of release %s done: %s", release_number, summary)
    emails = 0
    if _setting("FANOUT_NEW_RELEASE_EMAILS", True):
        for order_id, number in subscriptions.due_new_release_emails():
            if number == release_number:  # a newer release has its own fan-out
                queue.new_release(order_id, number)
                emails += 1
    return {**summary, "emails": emails}
