"""The package store: content-addressed zips in the file store (``cameras.storage``: on disk
under PACKAGES_DIR, outside static and media roots, or in the shared object store).

A package's address is ``exporters.package.cache_key`` (release sha256, device, coverage,
options): an unchanged combination is built once and then served from the store, whichever
machine built it. The exporter writes to a local spool file and the store places it atomically
(a rename on disk; a temporary key copied to its final key in an object store), so a reader
never sees half a zip and two builders of the same key cannot corrupt each other."""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from cameras.coverage import Coverage
from cameras.storage import get_store
from cameras.exporting import device_coverage, export_package, latest_release
from cameras.models import Release
from exporters.base import ExportOptions
from exporters.devices import Device, get_device
from exporters.package import cache_key

from portal.models import Order


@dataclass
class StoredPackage:
    key: str
    release: Release
    filename: str

    @property
    def name(self) -> str:
        return store_name(self.key)

    @property
    def path(self) -> Path:
        """The package's file on the local disk (with an object store: a cached copy, fetched once)."""
        store = get_store()
        return store.local_path(self.name) if store.remote else store.path(self.name)

    @property
    def size(self) -> int:
        return get_store().size(self.name)

    def read_bytes(self) -> bytes:
        return get_store().read_bytes(self.name)

    def modified(self) -> float:
        return get_store().modified(self.name)

    @functools.cached_property
    def cameras(self) -> int | None:
        """The cameras in the file (its manifest's ``counts.total``: a section is one camera),
        the number every page and email gives for it; None when the zip cannot be read."""
        try:
            with zipfile.ZipFile(self.path) as zf:
                return int(json.loads(zf.read("manifest.json"))["counts"]["total"])
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None


_KEY = re.compile(r"[0-9a-f]{64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def store_name(key: str) -> str:
    """The store name of a package key (a sha256 hex digest, nothing else: no path can be made
    of it); ValueError for anything that is not a key."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"not a package key: {key!r}")
    return f"packages/{key[:2]}/{key}.zip"


def store_path(key: str) -> Path:
    """The file of a package key in the local store (PACKAGES_DIR)."""
    return Path(settings.PACKAGES_DIR) / store_name(key).split("/", 1)[1]


def is_stored(key: str) -> bool:
    return get_store().exists(store_name(key))


def download_filename(device_id: str, release_number: int | str | None = None) -> str:
    """The name a download is saved under: letters, digits, ``.``, ``_`` and ``-`` only,
    so nothing from the order can break out of the Content-Disposition header (quotes,
    CR/LF, path separators) or name a hidden file."""
    name = _UNSAFE.sub("-", str(device_id)).strip(".-") or "device"
    suffix = f"-r{_UNSAFE.sub('-', str(release_number))}" if release_number not in (None, "") else ""
    return f"speedcams-{name[:64]}{suffix}.zip"


# The options of a new purchase before the customer changes any (the form's initial values).
DEFAULT_OPTIONS = {"mobile": False, "icons": "speed", "speed_unit": "auto", "fr_zone_mode": "legal"}


def covers_france(coverage: Coverage) -> bool:
    """Whether cameras in France can be in the coverage (France, or a route or circle, which
    may cross it)."""
    return "FR" in coverage.countries or bool(coverage.corridors or coverage.circles)


def export_options(coverage: Coverage, *, mobile: bool = False, icons: str = "speed", speed_unit: str = "auto",
                   fr_zone_mode: str = "exact", language: str = "en") -> ExportOptions:
    """The export options of a purchase's fields. The France legal mode becomes
    ``fr_danger_zones`` only when the coverage can hold French cameras: elsewhere it changes
    nothing in the files, so it does not change the package key either. ``language``: the
    language of INSTALL.txt and the manifest's notes (``Order.customer_language``)."""
    return ExportOptions(mobile=bool(mobile), icons=icons or "speed", speed_unit=speed_unit or "auto",
                         fr_danger_zones=fr_zone_mode == "legal" and covers_france(coverage),
                         language=language or "en")


def order_options(order: Order, coverage: Coverage) -> ExportOptions:
    return export_options(coverage, mobile=order.mobile, icons=order.icons, speed_unit=order.speed_unit,
                          fr_zone_mode=order.fr_zone_mode, language=order.customer_language)


def order_spec(order: Order) -> tuple[Device, Coverage, ExportOptions]:
    device = get_device(order.device_id)
    chosen = Coverage.parse(order.coverage) if order.coverage else None
    coverage, _ = device_coverage(device, chosen)
    return device, coverage, order_options(order, coverage)


def package_filename(device: Device, release: Release) -> str:
    return download_filename(device.id, release.number)


def ensure_package(device: Device, coverage: Coverage, options: ExportOptions,
                   release: Release | None = None) -> StoredPackage:
    """The stored package for this combination, built now if the store does not hold it."""
    release = release or latest_release(changelog=False)
    key = cache_key(release.sha256, device, coverage.labels(), options)
    store, name = get_store(), store_name(key)
    if not store.exists(name):
        package = export_package(device, coverage, options, release=release)
        fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=".zip", dir=store.spool_dir(name))
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(package.data)
                fh.flush()
                os.fsync(fh.fileno())
            store.place(name, Path(tmp))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return StoredPackage(key, release, package_filename(device, release))


def package_for_order(order: Order) -> StoredPackage:
    device, coverage, options = order_spec(order)
    return ensure_package(device, coverage, options)


def stored_package(order: Order) -> StoredPackage | None:
    """The package the order's latest file was built from, if it is in the store."""
    if not order.package_key or order.release is None:
        return None
    if not is_stored(order.package_key):
        return None
    device = get_device(order.device_id)
    return StoredPackage(order.package_key, order.release, package_filename(device, order.release))
