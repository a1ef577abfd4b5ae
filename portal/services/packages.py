"""The package store: content-addressed zips on disk, outside static and media roots.

A package's address is ``exporters.package.cache_key`` (release sha256, device, coverage,
options): an unchanged combination is built once and then served from the store. Files are
written to a temporary name and renamed into place, so a reader never sees half a zip and
two builders of the same key cannot corrupt each other."""

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
from cameras.exporting import device_coverage, export_package, latest_release
from cameras.models import Release
from exporters.base import ExportOptions
from exporters.devices import Device, get_device
from exporters.package import cache_key

from portal.models import Order


@dataclass
class StoredPackage:
    key: str
    path: Path
    release: Release
    filename: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size

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


def store_path(key: str) -> Path:
    """The file of a package key (a sha256 hex digest, nothing else: no path can be made
    of it); ValueError for anything that is not a key."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"not a package key: {key!r}")
    return Path(settings.PACKAGES_DIR) / key[:2] / f"{key}.zip"


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
                   fr_zone_mode: str = "exact") -> ExportOptions:
    """The export options of a purchase's fields. The France legal mode becomes
    ``fr_danger_zones`` only when the coverage can hold French cameras: elsewhere it changes
    nothing in the files, so it does not change the package key either."""
    return ExportOptions(mobile=bool(mobile), icons=icons or "speed", speed_unit=speed_unit or "auto",
                         fr_danger_zones=fr_zone_mode == "legal" and covers_france(coverage))


def order_options(order: Order, coverage: Coverage) -> ExportOptions:
    return export_options(coverage, mobile=order.mobile, icons=order.icons, speed_unit=order.speed_unit,
                          fr_zone_mode=order.fr_zone_mode)


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
    path = store_path(key)
    if not path.exists():
        package = export_package(device, coverage, options, release=release)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=".zip", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(package.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return StoredPackage(key, path, release, package_filename(device, release))


def package_for_order(order: Order) -> StoredPackage:
    device, coverage, options = order_spec(order)
    return ensure_package(device, coverage, options)


def stored_package(order: Order) -> StoredPackage | None:
    """The package the order's latest file was built from, if it is in the store."""
    if not order.package_key or order.release is None:
        return None
    path = store_path(order.package_key)
    if not path.exists():
        return None
    device = get_device(order.device_id)
    return StoredPackage(order.package_key, path, order.release, package_filename(device, order.release))
