"""The bridge from the camera database to the exporters: a release cut to a coverage."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from cameras import regions
from cameras.models import Release
from cameras.releases import load_snapshot
from exporters.base import CameraSet, ExportOptions
from exporters.devices import Device
from exporters.package import Package, build_package


def latest_release() -> Release:
    release = Release.objects.order_by("-number").first()
    if release is None:
        raise LookupError("no release has been published yet; run: python manage.py publish_release")
    return release


def release_arrow_memory() -> None:
    """Hand the buffers Arrow's allocator keeps after a free back to the system. Reading a
    snapshot leaves about twice the table there, and the numeric columns of a camera set
    are Arrow buffers (zero-copy), freed into that allocator when the set goes."""
    pa.default_memory_pool().release_unused()


def release_cameras(release: Release) -> CameraSet:
    cameras = CameraSet.from_arrow(load_snapshot(release))
    release_arrow_memory()
    return cameras


def coverage_cameras(cameras: CameraSet, codes: list[str]) -> CameraSet:
    """Cameras of the countries in ``codes`` (country codes and region slugs; unknown ones raise).
    When every camera is covered the set itself is returned (no copy)."""
    countries = regions.expand(codes)
    mask = np.isin(cameras["country"].astype(str), sorted(countries))
    return cameras if mask.all() else cameras.take(mask)


def release_info(release: Release) -> dict:
    return {"number": release.number, "date": release.created_at.date().isoformat(), "sha256": release.sha256}


def build_spooled(cameras: CameraSet, device: Device, options: ExportOptions, *, release: dict, coverage: list[str],
                  spool_parent: str | Path | None = None) -> Package:
    """``build_package`` with the plugin's large files written to a temporary spool directory
    (inside ``spool_parent``, default the system temp directory) and streamed into the zip,
    so a million cameras stay far below 500 MB of memory. The directory is removed
    afterwards; the package bytes are the same as without spooling."""
    if options.spool_dir is not None:
        return build_package(cameras, device, options, release=release, coverage=coverage)
    with tempfile.TemporaryDirectory(prefix=".export-spool-", dir=spool_parent) as spool_dir:
        return build_package(cameras, device, options.with_(spool_dir=spool_dir), release=release,
                             coverage=coverage)


def export_package(device: Device, codes: list[str], options: ExportOptions, release: Release | None = None,
                   cameras: CameraSet | None = None) -> Package:
    release = release or latest_release()
    cams = cameras if cameras is not None else release_cameras(release)
    covered = coverage_cameras(cams, codes)
    if cameras is None and covered is not cams:
        del cams  # the release's set, loaded here, is not needed any more
        release_arrow_memory()
    return build_spooled(covered, device, options, release=release_info(release), coverage=list(codes))
