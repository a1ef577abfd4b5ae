"""The bridge from the camera database to the exporters: a release cut to a coverage."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa

from cameras.coverage import CameraIndex, Coverage
from cameras.coverage.fitting import Sizer
from cameras.legal import install_notes
from cameras.lru import LRU
from cameras.models import Release
from cameras.releases import load_snapshot
from exporters.base import CameraSet, ExportOptions
from exporters.devices import Device
from exporters.package import Package, build_package


def latest_release(*, changelog: bool = True, missing_ok: bool = False, published_by=None) -> Release | None:
    """The latest published release (``published_by``: the latest one published at that
    moment). ``changelog=False`` leaves the changelog column out: JSON of hundreds of KB for a
    big release, decoded on every load, which pages and jobs that only need the number or the
    counts should not pay for (Django reads it lazily should anything ask for it). With no
    release: None when ``missing_ok``, else LookupError."""
    releases = Release.objects.all() if changelog else Release.objects.defer("changelog")
    if published_by is not None:
        releases = releases.filter(created_at__lte=published_by)
    release = releases.order_by("-number").first()
    if release is None and not missing_ok:
        raise LookupError("no release has been published yet; run: python manage.py publish_release")
    return release


def release_arrow_memory() -> None:
    """Hand the buffers Arrow's allocator keeps after a free back to the system. Reading a
    snapshot leaves about twice the table there, and the numeric columns of a camera set
    are Arrow buffers (zero-copy), freed into that allocator when the set goes."""
    pa.default_memory_pool().release_unused()


def release_cameras(release: Release) -> CameraSet:
    """The release's cameras, read from its snapshot one column at a time (the peak stays
    near the size of the camera set itself, not the Arrow table plus the set)."""

    def read_column(name):
        column = load_snapshot(release, columns=[name]).column(name)
        release_arrow_memory()
        return column

    cameras = CameraSet.from_column_reader(read_column)
    release_arrow_memory()
    return cameras


def covered_cameras(cameras: CameraSet, coverage: Coverage, index: CameraIndex | None = None) -> CameraSet:
    """The cameras of ``coverage`` (the set itself, no copy, when it covers every camera)."""
    mask = coverage.mask(index or CameraIndex(cameras))
    return cameras if mask.all() else cameras.take(mask)


# Release indexes and size models are built once per process and release: a web worker
# answers size queries from them in milliseconds.
_INDEXES = LRU(2)
_MODELS = LRU(16)
_SIZERS = LRU(64)


def release_index(release: Release) -> CameraIndex:
    """The release's cameras with their coverage index (cached per process)."""
    return _INDEXES.get(release.sha256, lambda: CameraIndex(release_cameras(release)))


def sizer(release: Release, device: Device, options: ExportOptions) -> Sizer:
    """Exact package sizes for ``device`` over ``release``; the plugin's size model is
    built on first use and cached per (release, format, options)."""
    index = release_index(release)
    opts = tuple(sorted(options.key().items()))

    def make() -> Sizer:
        model = _MODELS.get((release.sha256, device.format, opts),
                            lambda: device.exporter().size_model(index.cameras, options))
        return Sizer(index, device, options, release_info(release), model=model)

    return _SIZERS.get((release.sha256, device, opts), make)


def device_coverage(device: Device, coverage: Coverage | None) -> tuple[Coverage, str]:
    """The coverage a device gets: the chosen one, or its default (with the reason) when the
    catalog does not allow coverage setup for it."""
    if coverage is None:
        return Coverage.parse([device.default_coverage]), ""
    if not device.coverage_setup:
        return (Coverage.parse([device.default_coverage]),
                f"{device.name} takes the default coverage only ({device.default_coverage}): {device.coverage_note}")
    return coverage, ""


def release_info(release: Release) -> dict:
    return {"number": release.number, "date": release.created_at.date().isoformat(), "sha256": release.sha256}


def build_spooled(cameras: CameraSet, device: Device, options: ExportOptions, *, release: dict, coverage: list[str],
                  spool_parent: str | Path | None = None) -> Package:
    """``build_package`` with the plugin's large files written to a temporary spool directory
    (inside ``spool_parent``, default the system temp directory) and streamed into the zip,
    so a million cameras stay far below 500 MB of memory. The directory is removed
    afterwards; the package bytes are the same as without spooling."""
    if options.spool_dir is not None:
        return build_package(cameras, device, options, release=release, coverage=coverage,
                             legal_notes=install_notes())
    with tempfile.TemporaryDirectory(prefix=".export-spool-", dir=spool_parent) as spool_dir:
        return build_package(cameras, device, options.with_(spool_dir=spool_dir), release=release,
                             coverage=coverage, legal_notes=install_notes())


def export_package(device: Device, coverage: Coverage | list[str], options: ExportOptions,
                   release: Release | None = None, cameras: CameraSet | None = None) -> Package:
    release = release or latest_release()
    if not isinstance(coverage, Coverage):
        coverage = Coverage.parse(coverage)
    cams = cameras if cameras is not None else release_cameras(release)
    covered = covered_cameras(cams, coverage)
    if cameras is None and covered is not cams:
        del cams  # the release's set, loaded here, is not needed any more
        release_arrow_memory()
    return build_spooled(covered, device, options, release=release_info(release), coverage=coverage.labels())
