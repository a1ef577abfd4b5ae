"""Packages: one deterministic zip per (release, device, coverage, options).

The zip holds the plugin's files (by category), the installation guide, and a manifest
(release, device, coverage, options, counts per country and type, per-file POI counts and
sha256, skipped cameras, limit checks). Same inputs, same bytes: entries are sorted, every
timestamp is 1980-01-01, permissions fixed, and the manifest holds nothing time-dependent.
The zip is written by ``exporters.zipfiles`` (zlib-ng, deflated in blocks on several threads).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .base import CameraSet, ExportError, ExportOptions, OutputFile
from .common import same_selection, select
from .textrows import factorize
from .devices import Device
from .i18n import date_text, gettext, gettext_noop, ngettext, number, override
from .schema import CameraType
from . import units
from .zipfiles import ZipWriter

PACKAGE_FORMAT_VERSION = 1


@dataclass
class Package:
    data: bytes
    manifest: dict
    filename: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def cache_key(release_sha256: str, device: Device, coverage: list[str], options: ExportOptions) -> str:
    """Content address of a package: what went in, not when it was made."""
    payload = json.dumps({"v": PACKAGE_FORMAT_VERSION, "release": release_sha256, "device": device.id,
                          "format": device.format, "coverage": sorted(coverage), "options": options.key()},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def check_options(device: Device, options: ExportOptions) -> None:
    if options.mobile and not device.mobile:
        raise ExportError(gettext("%(device)s cannot show mobile cameras; export without the mobile option")
                          % {"device": device.name})
    if options.icons == "fr-danger" and not device.icon_swap:
        raise ExportError(gettext("%(device)s cannot swap icons, so the France danger icon set is not available; "
                                  "valid icon sets for it: speed. French cameras can be exported as danger zones "
                                  "instead") % {"device": device.name})


def limit_warnings(device: Device, files: list[dict], total_pois: int) -> list[str]:
    """What goes over the device's known limits (``files``: dicts with name, category, count,
    bytes), in the active language."""
    warnings = []
    if device.max_pois and total_pois > device.max_pois.value:
        warnings.append(gettext("%(count)s cameras exceed the device limit of %(limit)s: choose a smaller coverage")
                        % {"count": number(total_pois), "limit": device.max_pois.describe("POIs")})
    if device.max_file_bytes:
        for f in files:
            if f["bytes"] > device.max_file_bytes.value:
                warnings.append(gettext("%(file)s is %(bytes)s bytes, over the device limit of %(limit)s: choose a "
                                        "smaller coverage")
                                % {"file": f["name"], "bytes": number(f["bytes"]),
                                   "limit": device.max_file_bytes.describe("bytes")})
    if device.max_categories:
        cats = {f["category"] for f in files if f["count"]}
        if len(cats) > device.max_categories.value:
            warnings.append(gettext("%(count)s categories exceed the device limit of %(limit)s")
                            % {"count": number(len(cats)), "limit": device.max_categories.describe("categories")})
    return warnings


def hard_limit_error(device: Device, total_pois: int, by_country: dict[str, int]) -> str | None:
    """Why a package of ``total_pois`` POIs cannot be sold for ``device``, with what to leave
    out, or None. Only a hard limit refuses (``devices.Limit.hard``: the device then ignores
    every POI, not just the excess); other limits give warnings. ``by_country``: the package's
    cameras per country; the countries to leave out are the largest ones, as few as do it."""
    limit = device.max_pois
    if limit is None or not limit.hard or total_pois <= limit.value:
        return None
    over = total_pois - limit.value
    values = {"total": number(total_pois), "device": device.name, "limit": number(limit.value),
              "over": number(over), "default": device.default_coverage}
    ranked = sorted(((n, c) for c, n in by_country.items() if n), key=lambda nc: (-nc[0], nc[1]))
    drop, cut = [], 0
    for n, country in ranked:
        if cut >= over or len(drop) == len(ranked) - 1:
            break
        drop.append(f"{country} ({number(n)})")
        cut += n
    if cut >= over:
        values.update(drop=", ".join(drop), left=", ".join(c for _, c in ranked[len(drop):]),
                      remaining=number(total_pois - cut))
        return gettext("%(total)s POIs are over the limit of %(device)s, %(limit)s POIs: above it the device "
                       "ignores every POI, so this coverage is refused. Leave out at least %(over)s POIs: for "
                       "example the countries %(drop)s, which leaves %(remaining)s POIs in %(left)s; or choose a "
                       "smaller region (the default for this device is %(default)s).") % values
    # every country is, when even the smallest is
    values["alone"] = ranked[-1][1] if ranked else gettext("the coverage")
    return gettext("%(total)s POIs are over the limit of %(device)s, %(limit)s POIs: above it the device ignores "
                   "every POI, so this coverage is refused. Leave out at least %(over)s POIs: %(alone)s alone is "
                   "over it, so choose part of it (the cameras along a route, or around your home) or a smaller "
                   "region (the default for this device is %(default)s).") % values


def install_guide(device: Device, manifest: dict, legal_notes: Mapping[str, str] | None = None) -> str:
    """The package's INSTALL.txt. ``legal_notes`` (country code -> one line, given by the
    caller: ``cameras.legal``) are printed for the countries the package holds cameras of.
    In the active language (``build_package`` runs it under ``override(options.language)``);
    the notes and warnings come translated in the manifest."""
    total = manifest["counts"]["total"]
    title = gettext("Speed cameras for %(device)s") % {"device": device.name}
    lines = [title, "=" * len(title), "",
             ngettext("Release %(number)s (%(date)s), coverage: %(codes)s, %(count)s camera.",
                      "Release %(number)s (%(date)s), coverage: %(codes)s, %(count)s cameras.", total)
             % {"number": manifest["release"]["number"], "date": date_text(manifest["release"]["date"]),
                "codes": ", ".join(manifest["coverage"]["codes"]), "count": number(total)}, ""]
    lines += heading(gettext("Installation"))
    lines += [f"{i}. {step}" for i, step in enumerate(device.install, start=1)]
    lines += [""] + heading(gettext("What this file does"))
    lines += [f"- {note}" for note in manifest["notes"]]
    laws = [line for code, line in sorted((legal_notes or {}).items()) if code in manifest["counts"]["by_country"]]
    if laws:
        lines += [""] + heading(gettext("THE LAW WHERE YOU DRIVE")) + [f"- {line}" for line in laws]
    if manifest["warnings"]:
        lines += [""] + heading(gettext("WARNINGS")) + [f"- {w}" for w in manifest["warnings"]]
    lines += [""] + heading(gettext("Files"))
    lines += [ngettext("- %(file)s: %(count)s camera", "- %(file)s: %(count)s cameras", f["count"])
              % {"file": f["name"], "count": number(f["count"])} if f["count"] else f"- {f['name']}"
              for f in manifest["files"]]
    lines += ["", gettext("Camera data includes OpenStreetMap data, (c) OpenStreetMap contributors, ODbL 1.0."), ""]
    return "\r\n".join(lines)


def heading(text: str) -> list[str]:
    """A heading of INSTALL.txt, underlined to its length."""
    return [text, "-" * len(text)]


# The legal-mode note (docs/france.md has the sources).
FRANCE_NOTE = gettext_noop("France: no camera position and no speed is given. French law (Code de la route art. R413-15, "
               "décret n° 2012-3 of 3 January 2012) forbids signalling where speed cameras are; each French camera "
               "is a 'Zone de danger' (danger sign, no speed) at least as long as the rules agreed with the "
               "Ministry of the Interior (300 m in built-up areas, 2 km on other roads, 4 km on motorways), "
               "containing the camera at an undisclosed point; where the format carries an alert distance, it "
               "covers the whole zone.")


# Terms the notes use, to say each thing once (``package_notes``). Translators: translate them
# exactly as in the notes that use them ("alerts are not direction-aware", "the danger sign").
DIRECTION_AWARE = gettext_noop("direction-aware")
DANGER_SIGN = gettext_noop("danger sign")


def package_notes(device: Device, options: ExportOptions, plugin_notes: list[str],
                  counts: "Counts | None" = None) -> list[str]:
    """The plugin's notes, the device's, then what the package adds (each said once), in the
    active language."""
    notes = list(dict.fromkeys([*plugin_notes, *device.notes]))
    said = " ".join([*notes, *device.english("notes")])

    def says(term: str) -> bool:  # in English or in the active language
        return term in said or gettext(term) in said

    exporter = device.exporter()
    if not exporter.direction_aware and not says(DIRECTION_AWARE):
        notes.append(device.direction_alerts)
    if exporter.speed_in_names == "camera" and counts is not None:
        note = units.names_note_for(options.speed_unit, counts.by_country)
        if note:
            notes.append(note)
    if options.fr_danger_zones:
        notes.append(gettext(FRANCE_NOTE))
    if options.icons == "fr-danger" and not says(DANGER_SIGN):
        notes.append(gettext("France icon set: every camera icon in this package's files is the danger sign without a "
                     "speed number (an icon belongs to a whole file, so cameras outside France in the same file "
                     "show it too)."))
    return notes


@dataclass
class Counts:
    """What the manifest counts of the selected cameras."""

    total: int
    by_country: dict[str, int]
    by_type: dict[str, int]

    @classmethod
    def of(cls, selected: CameraSet) -> "Counts":
        """Counted per distinct value (countries and type names in first-seen order, as a
        ``Counter`` of the rows gives them), not per row in Python."""
        type_names = {t.value: t.slug for t in CameraType}
        codes, countries = factorize(selected["country"])
        by_country = dict(zip(countries, np.bincount(codes, minlength=len(countries)).tolist()))
        types, first, per_type = np.unique(np.asarray(selected["type"], dtype=np.int64), return_index=True,
                                           return_counts=True)
        by_type: Counter = Counter()
        for k in np.argsort(first, kind="stable").tolist():
            t = int(types[k])
            by_type[type_names.get(t, str(t))] += int(per_type[k])
        return cls(len(selected), by_country, dict(by_type))


def make_manifest(device: Device, options: ExportOptions, *, release: dict, coverage: list[str], counts: Counts,
                  files: list[dict], skipped: dict[str, int], plugin_notes: list[str]) -> dict:
    """The manifest of a package; ``files`` are dicts with name, category, count, bytes, sha256."""
    total_pois = sum(f["count"] for f in files)
    return {
        "package_format": PACKAGE_FORMAT_VERSION,
        "release": release,
        "device": {"id": device.id, "name": device.name, "format": device.format},
        "coverage": {"codes": sorted(coverage)},
        "options": options.key(),
        "counts": {
            "total": counts.total,
            "pois": total_pois,
            "by_country": dict(sorted(counts.by_country.items())),
            "by_type": dict(sorted(counts.by_type.items())),
        },
        "skipped": dict(sorted(skipped.items())),
        "files": sorted(files, key=lambda f: f["name"]),
        "notes": package_notes(device, options, plugin_notes, counts),
        "warnings": limit_warnings(device, files, total_pois),
    }


def companion_entries(device: Device, manifest: dict, legal_notes: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """The files the package adds to the plugin's: the installation guide and the manifest."""
    return {"INSTALL.txt": install_guide(device, manifest, legal_notes).encode("utf-8"),
            "manifest.json": (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()}


SHA256_PLACEHOLDER = "0" * 64  # same length as a real digest: the manifest's size does not change


def package_sizes(sized, device: Device, options: ExportOptions, *, release: dict, coverage: list[str],
                  counts: Counts, legal_notes: Mapping[str, str] | None = None) -> tuple[list[dict], dict]:
    """Every file the package will hold (plugin files, INSTALL.txt, manifest.json) with its
    POI count and exact byte size, from a ``sizing.SizedExport``, without building anything;
    and the manifest (its checksums are placeholders)."""
    files = [{"name": f.name, "category": f.category, "count": f.count, "bytes": f.bytes,
              "sha256": SHA256_PLACEHOLDER} for f in sized.files]
    with override(options.language):  # INSTALL.txt and the notes in the customer's language
        manifest = make_manifest(device, options, release=release, coverage=coverage, counts=counts, files=files,
                                 skipped=sized.skipped, plugin_notes=sized.notes)
        extra = [{"name": name, "category": "", "count": 0, "bytes": len(data)}
                 for name, data in companion_entries(device, manifest, legal_notes).items()]
    return sorted([{k: f[k] for k in ("name", "category", "count", "bytes")} for f in files] + extra,
                  key=lambda f: f["name"]), manifest


def build_package(cameras: CameraSet, device: Device, options: ExportOptions, *, release: dict,
                  coverage: list[str], legal_notes: Mapping[str, str] | None = None) -> Package:
    """Render ``cameras`` (already cut to the coverage) for ``device`` and pack everything.
    INSTALL.txt, the manifest's notes and warnings, and the errors are in ``options.language``
    (``override``); the data files are the same in every language."""
    with override(options.language):
        return _build_package(cameras, device, options, release=release, coverage=coverage, legal_notes=legal_notes)


def _build_package(cameras: CameraSet, device: Device, options: ExportOptions, *, release: dict,
                   coverage: list[str], legal_notes: Mapping[str, str] | None = None) -> Package:
    check_options(device, options)
    with same_selection():  # the plugin and the counts share one selection (France zones made once)
        result = device.exporter().render(cameras, options)
        counts = Counts.of(select(cameras, options))
    files = [{"name": f.name, "category": f.category, "count": f.count, "bytes": f.size, "sha256": f.sha256}
             for f in result.files]
    refused = hard_limit_error(device, sum(f["count"] for f in files), counts.by_country)
    if refused:
        raise ExportError(refused)
    manifest = make_manifest(device, options, release=release, coverage=coverage,
                             counts=counts, files=files, skipped=result.skipped,
                             plugin_notes=result.notes)
    entries: dict[str, bytes | OutputFile] = {f.name: f for f in result.files}
    entries.update(companion_entries(device, manifest, legal_notes))
    buf = io.BytesIO()
    with ZipWriter(buf) as zw:
        for name in sorted(entries):
            if name.startswith("/") or ".." in name.split("/"):
                raise ExportError(f"unsafe file name in package: {name!r}")
            zw.add(name, entries[name])  # a spooled file is fed through in blocks, never read whole
    filename = f"speedcams-{device.id}-r{release['number']}.zip"
    return Package(data=buf.getvalue(), manifest=manifest, filename=filename)
