"""The bridge from the camera database to the exporters: a release cut to a coverage."""

from __future__ import annotations

import numpy as np

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


def release_cameras(release: Release) -> CameraSet:
    return CameraSet.from_arrow(load_snapshot(release))


def coverage_cameras(cameras: CameraSet, codes: list[str]) -> CameraSet:
    """Cameras of the countries in ``codes`` (country codes and region slugs; unknown ones raise)."""
    countries = regions.expand(codes)
    mask = np.isin(cameras["country"].astype(str), sorted(countries))
    return cameras.take(mask)


def release_info(release: Release) -> dict:
    return {"number": release.number, "date": release.created_at.date().isoformat(), "sha256": release.sha256}


def export_package(device: Device, codes: list[str], options: ExportOptions, release: Release | None = None,
                   cameras: CameraSet | None = None) -> Package:
    release = release or latest_release()
    cams = cameras if cameras is not None else release_cameras(release)
    covered = coverage_cameras(cams, codes)
    return build_package(covered, device, options, release=release_info(release), coverage=list(codes))
