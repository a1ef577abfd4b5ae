"""Importing a feed file into the camera database.

read (cameras.formats) -> validate positions, fix swapped lat/lon, assign countries
(cameras.geo) -> merge duplicates within the file and against the database
(cameras.dedup) -> write in one transaction: update linked cameras, create new ones,
link merged ones, deactivate what disappeared from the source.

Without ``skip_invalid`` one bad row aborts the import and nothing is written; with it,
good rows land and the report lists the rejected ones. ``dry_run`` does all the work and
writes nothing.

Before anything reaches the database every record is held to the columns' limits, the same
on SQLite and PostgreSQL (``_limits``): text cut to the model's ``max_length`` (a long ref
keeps a hash of the rest, so two refs stay two), NUL bytes removed and lone surrogates
replaced, speeds within 5-300 km/h, ``reports`` clamped to the column, report times within
``REPORT_YEARS``, positions finite; the source name must be a slug that fits its column.
What was changed is a note: reader notes, file notes (the encoding a file was read in) and
these are listed in the report by kind. A file that lost rows while reading (any rejection)
deactivates nothing: a row it could not read may be a camera that is still there. An import
that accepts no row fails, with ``skip_invalid`` too.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
from collections import defaultdict
from datetime import datetime
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from cameras import dedup, geo
from cameras.distance import haversine_m
from cameras.formats import FormatError, Record, Rejection, detect, get_reader
from cameras.formats.base import collecting_notes
from cameras.mobile import aggregate_mobile_zones, store_reports
from cameras.models import Camera, CameraLink, ImportRun, Source

# Camera fields a feed sets (and an update may change).
FEED_FIELDS = ("kind", "type", "lat", "lon", "speed", "truck_speed", "heading", "dir_mode",
               "country", "road", "description", "end_lat", "end_lon", "reports")


class ImportFailed(Exception):
    """The import was refused; ``report`` says why (rejected rows or a file-level error)."""

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


@dataclass
class ImportReport:
    path: str
    format: str
    source: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: int = 0
    swapped: list[int] = field(default_factory=list)            # line numbers fixed
    merged: list[tuple] = field(default_factory=list)           # (line, what, camera/line, metres, why)
    repeated_refs: list[tuple] = field(default_factory=list)    # (ref, line, first line, metres): another camera
    mobile_repeats: list[tuple] = field(default_factory=list)   # (line, why the report was not stored again)
    rejections: list[Rejection] = field(default_factory=list)
    mobile_reports: int = 0
    zones: dict | None = None
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, what was fixed/assumed); 0 = file
    kept_active: str = ""  # why nothing was deactivated although cameras were missing, if so

    @property
    def accepted(self):
        return self.rows - len(self.rejections)

    def summary(self) -> str:
        lines = [
            f"{self.path} ({self.format}) -> source {self.source}" + (" [dry run: nothing written]" if self.dry_run else ""),
            f"  rows read: {self.rows}, accepted: {self.accepted}, rejected: {len(self.rejections)}",
            f"  cameras created: {self.created}, updated: {self.updated}, unchanged: {self.unchanged}, "
            f"reactivated: {self.reactivated}, deactivated (gone from source): {self.deactivated}",
            f"  merged as duplicates: {len(self.merged)}",
            *self._repeated_refs_lines(),
            f"  latitude/longitude swapped and fixed: {len(self.swapped)}",
        ]
        if self.mobile_reports:
            lines.append(f"  mobile reports stored: {self.mobile_reports}")
        if self.mobile_repeats:
            line, why = self.mobile_repeats[0]
            lines.append(f"  mobile reports not stored again: {len(self.mobile_repeats)} (e.g. line {line}: {why})")
        if self.zones:
            lines.append(f"  mobile zones: {self.zones}")
        if self.kept_active:
            lines.append(f"  {self.kept_active}")
        lines.extend(self.notes_lines())
        return "\n".join(lines)

    def notes_by_kind(self) -> dict[str, list[tuple[int, str]]]:
        """Notes grouped by kind (the text with its values taken out), most frequent first."""
        groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for line, text in self.notes:
            groups[_note_kind(text)].append((line, text))
        return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))

    def notes_lines(self, examples: int = 3) -> list[str]:
        if not self.notes:
            return []
        groups = self.notes_by_kind()
        name = Path(self.path).name
        lines = [f"  notes (what was changed or assumed while reading): {len(self.notes)} in {len(groups)} kind(s)"]
        for kind, items in groups.items():
            lines.append(f"    {len(items)} x {kind}")
            for line, text in items[:examples]:
                lines.append(f"      {name}:{line}: {text}" if line else f"      {name}: {text}")
        return lines

    def _repeated_refs_lines(self, examples=3):
        if not self.repeated_refs:
            return []
        ids = {r[0] for r in self.repeated_refs}
        shown = "; ".join(f"'{ref}' line {line} ({_distance_text(metres)} from line {first})"
                          for ref, line, first, metres in self.repeated_refs[:examples])
        return [f"  ids repeated for another camera (kept as separate cameras): {len(ids)} ids, "
                f"{len(self.repeated_refs)} rows, e.g. {shown}"]

    def as_dict(self, limit=1000):
        return {
            "path": self.path, "format": self.format, "source": self.source, "dry_run": self.dry_run,
            "rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "reactivated": self.reactivated, "deactivated": self.deactivated,
            "swapped": len(self.swapped), "swapped_lines": self.swapped[:limit],
            "merged": len(self.merged), "merged_detail": [list(m) for m in self.merged[:limit]],
            "repeated_refs": len({r[0] for r in self.repeated_refs}),
            "repeated_refs_detail": [list(r) for r in self.repeated_refs[:limit]],
            "mobile_repeats": [list(r) for r in self.mobile_repeats[:limit]],
            "rejected": len(self.rejections),
            "rejections": [[r.file, r.line, r.reason] for r in self.rejections[:limit]],
            "mobile_reports": self.mobile_reports, "zones": self.zones,
            "notes": len(self.notes),
            "notes_by_kind": {kind: len(items) for kind, items in self.notes_by_kind().items()},
            "notes_detail": [list(n) for n in self.notes[:limit]],
            "kept_active": self.kept_active,
        }


_NOTE_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|(?<![\w-])\d+(?:\.\d+)?(?![\w-])")


def _note_kind(text: str) -> str:
    """A note without its values: the notes of one kind group together in the report."""
    return _NOTE_VALUES.sub(lambda m: "N" if m.group(0)[0].isdigit() else "'…'", text)


# --------------------------------------------------------------------------- limits before the database

REF_MAX = CameraLink._meta.get_field("ref").max_length
TEXT_MAX = {"road": Camera._meta.get_field("road").max_length,
            "description": Camera._meta.get_field("description").max_length}
SOURCE_MAX = Source._meta.get_field("name").max_length
REPORTS_MAX = 2_147_483_647  # PositiveIntegerField: PostgreSQL's integer
SPEED_MIN, SPEED_MAX = 5, 300  # km/h, as docs/feed-csv.md
REPORT_YEARS = (1970, 2100)
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_source_name(name: str) -> None:
    """ImportFailed unless ``name`` is a slug that fits the source column."""
    problem = ""
    if not isinstance(name, str) or not name:
        problem = "is empty"
    elif len(name) > SOURCE_MAX:
        problem = f"is {len(name)} characters long; at most {SOURCE_MAX} are allowed"
    else:
        try:
            validate_slug(name)
        except ValidationError:
            problem = "may only hold letters, digits, '-' and '_'"
    if problem:
        raise ImportFailed(f"source name {str(name)[:80]!r} {problem}; use a short name such as fr-gov or osm")


def _clean_text(value, what: str, limit: int, notes: list[str]) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
        notes.append(f"{what}: NUL bytes removed")
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
        notes.append(f"{what}: invalid characters (lone surrogates) replaced by \ufffd")
    if len(text) > limit:
        notes.append(f"{what} cut from {len(text)} to {limit} characters")
        text = text[: limit - 1] + "…"
    return text


def _clean_ref(ref: str, notes: list[str]) -> str:
    ref = _clean_text(ref, "ref", 10 ** 9, notes)
    if len(ref) <= REF_MAX:
        return ref
    digest = hashlib.sha1(ref.encode("utf-8", "replace")).hexdigest()[:12]
    notes.append(f"ref of {len(ref)} characters cut to {REF_MAX} (its end replaced by a hash, so refs stay distinct)")
    return f"{ref[: REF_MAX - 13]}~{digest}"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _limit_problem(rec: Record) -> str | None:
    """Hold ``rec`` to the database's limits in place; the reason when it cannot be stored."""
    notes = rec.notes
    if not (_finite(rec.lat) and _finite(rec.lon) and -90 <= rec.lat <= 90 and -180 <= rec.lon <= 180):
        return f"position {rec.lat!r}, {rec.lon!r} is not a latitude/longitude"
    if (rec.end_lat is None) != (rec.end_lon is None):
        return "end_lat and end_lon must be given together"
    if rec.end_lat is not None and not (_finite(rec.end_lat) and _finite(rec.end_lon)
                                        and -90 <= rec.end_lat <= 90 and -180 <= rec.end_lon <= 180):
        return f"end position {rec.end_lat!r}, {rec.end_lon!r} is not a latitude/longitude"
    for name in ("speed", "truck_speed"):
        value = getattr(rec, name)
        if value is None:
            continue
        if not _finite(value) or not SPEED_MIN <= value <= SPEED_MAX:
            return f"{name} {value!r} is outside {SPEED_MIN}-{SPEED_MAX} km/h"
        setattr(rec, name, int(round(value)))
    if rec.heading is not None:
        if not _finite(rec.heading):
            return f"heading {rec.heading!r} is not a direction in degrees"
        rec.heading = float(rec.heading) % 360.0
    if rec.reported_at is not None:
        if not isinstance(rec.reported_at, datetime) or not REPORT_YEARS[0] <= rec.reported_at.year <= REPORT_YEARS[1]:
            return (f"reported_at {rec.reported_at!s} is not a report time: it must lie within the years "
                    f"{REPORT_YEARS[0]}-{REPORT_YEARS[1]}")
    reports = rec.reports or 0
    if isinstance(reports, float):
        if not math.isfinite(reports):
            return f"reports {reports!r} is not a whole number"
        reports = int(reports)
    if not 0 <= reports <= REPORTS_MAX:
        clamped = min(max(reports, 0), REPORTS_MAX)
        shown = str(reports) if len(str(reports)) <= 30 else f"a number of {len(str(reports))} digits"
        notes.append(f"reports {shown} clamped to {clamped}")
        reports = clamped
    rec.reports = reports
    rec.ref = _clean_ref(rec.ref, notes)
    rec.road = _clean_text(rec.road, "road", TEXT_MAX["road"], notes)
    rec.description = _clean_text(rec.description, "description", TEXT_MAX["description"], notes)
    return None


def _limits(records: list[Record], fname: str, rejections: list[Rejection]) -> list[Record]:
    """The records that can be stored (held to the columns' limits); the others as rejections."""
    kept = []
    for rec in records:
        problem = _limit_problem(rec)
        if problem:
            rejections.append(Rejection(fname, rec.line, problem))
        else:
            kept.append(rec)
    return kept


def _distance_text(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.1f} m"


def position_key(lat: float, lon: float, type_: int) -> str:
    """Import key for sources without ids: the position to 1e-5 degrees and the type."""
    return f"@{lat:.5f},{lon:.5f}/{int(type_)}"


def read_file(path: Path, fmt: str = "auto", progress: bool = False, notes: list | None = None):
    """(format name, records, rejections) of a file; ``notes`` receives the file notes
    (``(line, text)``, e.g. the encoding it was read in)."""
    reader = detect(path) if fmt == "auto" else get_reader(fmt)
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise FormatError(f"{path}: the file is empty; nothing to import")
    records, rejections = [], []
    bar = tqdm(desc=f"reading {path.name}", unit=" rows", disable=not progress, mininterval=0.5)
    with collecting_notes() as file_notes:
        try:
            for item in reader.read(path):
                (records if isinstance(item, Record) else rejections).append(item)
                if progress:
                    bar.update(1)
        except RecursionError:
            raise FormatError(f"{path}: nested too deeply to read as {reader.name}") from None
        finally:
            bar.close()
    if notes is not None:
        notes.extend(file_notes)
    if not records and not rejections:
        raise FormatError(f"{path}: no cameras found in this {reader.name} file")
    return reader.name, records, rejections


def _columns(records: list[Record]) -> dict[str, np.ndarray]:
    n = len(records)
    cols = {
        "lat": np.fromiter((r.lat for r in records), float, n),
        "lon": np.fromiter((r.lon for r in records), float, n),
        "type": np.fromiter((int(r.type) for r in records), np.int16, n),
        "heading": np.fromiter((math.nan if r.heading is None else r.heading for r in records), float, n),
        "dir_mode": np.fromiter((int(r.dir_mode) for r in records), np.int8, n),
        "end_lat": np.fromiter((math.nan if r.end_lat is None else r.end_lat for r in records), float, n),
        "end_lon": np.fromiter((math.nan if r.end_lon is None else r.end_lon for r in records), float, n),
    }
    return cols


def _assign_countries(records, cols, path_name, report):
    """Fix swapped coordinates, then give each record a country; reject the unplaceable."""
    lat, lon = cols["lat"], cols["lon"]
    tolerance = settings.COUNTRY_TOLERANCE_KM
    countries = geo.assign_countries(lat, lon, tolerance_km=tolerance)
    lat2, lon2, countries, swapped = geo.fix_swapped(lat, lon, countries, tolerance_km=tolerance)
    keep = np.ones(len(records), dtype=bool)
    for i in np.nonzero(swapped)[0]:
        rec = records[i]
        rec.lat, rec.lon = float(lat2[i]), float(lon2[i])
        if rec.end_lat is not None and rec.end_lon is not None:
            rec.end_lat, rec.end_lon = rec.end_lon, rec.end_lat
            cols["end_lat"][i], cols["end_lon"][i] = rec.end_lat, rec.end_lon
        report.swapped.append(rec.line)
    cols["lat"], cols["lon"] = lat2, lon2
    missing = np.nonzero(countries == "")[0]
    for n, i in enumerate(missing):
        rec = records[i]
        hint = ""
        if n < 200:  # nearest-country look-ups are slow; name it for the first rows only
            code, km = geo.nearest_country(rec.lat, rec.lon)
            if code:
                hint = f" (nearest country {code} at {km:.0f} km)"
        report.rejections.append(Rejection(
            path_name, rec.line,
            f"position {rec.lat:.6f}, {rec.lon:.6f} is not in or within {settings.COUNTRY_TOLERANCE_KM:g} km "
            f"of any country{hint}; check the coordinates and the latitude/longitude order"))
        keep[i] = False
    for i, code in enumerate(countries):
        records[i].country = code
    return keep


def _new_camera_row(rec: Record) -> tuple:
    """The record's values of ``FEED_FIELDS``, in that order, as the database stores them."""
    heading = rec.heading
    if heading is not None:
        heading = None if isinstance(heading, float) and math.isnan(heading) else round(float(heading), 1)
    return (int(rec.kind), int(rec.type), rec.lat, rec.lon, rec.speed, rec.truck_speed, heading,
            int(rec.dir_mode), rec.country, rec.road[:200], rec.description[:500], rec.end_lat, rec.end_lon,
            int(rec.reports or 0))


def _new_camera_values(rec: Record) -> dict:
    return dict(zip(FEED_FIELDS, _new_camera_row(rec)))


def import_file(path, *, source: str, fmt: str = "auto", skip_invalid: bool = False,
                dry_run: bool = False, progress: bool = False) -> ImportReport:
    """Read, check, merge and write one file (see the module docstring); the report says what
    was done. The cyclic garbage collector is paused meanwhile: the hundreds of thousands of
    records, keys and rows built here hold no cycles, and its passes over them cost seconds."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _import_file(path, source=source, fmt=fmt, skip_invalid=skip_invalid, dry_run=dry_run,
                            progress=progress)
    finally:
        if enabled:
            gc.enable()


def _import_file(path, *, source: str, fmt: str, skip_invalid: bool, dry_run: bool,
                 progress: bool) -> ImportReport:
    path = Path(path)
    check_source_name(source)
    file_notes: list[tuple[int, str]] = []
    fmt_name, records, rejections = read_file(path, fmt, progress, notes=file_notes)
    report = ImportReport(path=str(path), format=fmt_name, source=source, dry_run=dry_run)
    report.rows = len(records) + len(rejections)
    report.rejections.extend(rejections)
    records = _limits(records, path.name, report.rejections)
    report.notes.extend(file_notes)
    report.notes.extend((rec.line, note) for rec in records for note in rec.notes)

    # Mobile *reports* (a sighting with a time) are stored separately and aggregated into zones.
    sightings = [r for r in records if r.reported_at is not None]
    records = [r for r in records if r.reported_at is None]

    if records:
        cols = _columns(records)
        keep = _assign_countries(records, cols, path.name, report)
        records = [r for r, k in zip(records, keep) if k]
        cols = {k: v[keep] for k, v in cols.items()}
    if sightings:
        scols = _columns(sightings)
        keep = _assign_countries(sightings, scols, path.name, report)
        sightings = [r for r, k in zip(sightings, keep) if k]

    report.rejections.sort(key=lambda r: r.line)
    if report.rejections and not skip_invalid:
        raise ImportFailed(
            f"{len(report.rejections)} of {report.rows} rows in {path.name} are invalid; nothing was imported. "
            f"Fix them, or pass --skip-invalid to import the {report.accepted} good rows and list the rest.",
            report)
    # Only a file read without losing a row may deactivate what it lacks: a row it could not
    # use (a stray quote, a bad value, a position off the map) may be a camera still there.
    complete = not report.rejections
    if not records and not sightings:
        raise ImportFailed(
            f"none of the {report.rows} rows in {path.name} could be imported ({len(report.rejections)} rejected); "
            f"nothing was written", report)
    if not complete:
        report.kept_active = ("nothing deactivated: rows were rejected, so cameras missing from this file may "
                              "still be in the source; import a clean file to deactivate them")

    with transaction.atomic():
        src, _ = Source.objects.get_or_create(name=source)
        _write_cameras(src, records, cols if records else None, report, progress, deactivate=complete)
        if sightings:
            stored = store_reports(src, sightings)
            report.mobile_reports = stored.stored
            report.mobile_repeats.extend(stored.repeats)
            report.repeated_refs.extend(stored.variants)
            report.zones = aggregate_mobile_zones().as_dict()
        if dry_run:
            transaction.set_rollback(True)
        else:
            src.last_import_at = timezone.now()
            src.save(update_fields=["last_import_at"])
            ImportRun.objects.create(
                source=src, path=str(path), format=fmt_name, created=report.created,
                updated=report.updated, merged=len(report.merged), deactivated=report.deactivated,
                rejected=len(report.rejections), report=report.as_dict(limit=200))
    return report


def _write_cameras(src: Source, records: list[Record], cols, report: ImportReport, progress: bool,
                   deactivate: bool = True):
    now = timezone.now()
    if not records:
        # An import with nothing in it deactivates nothing: an empty feed is more likely broken.
        return
    # 1. Identity: a ref (or position key) repeated for another camera gets a key of its own;
    #    a true repeat (same type, a few metres, compatible direction) is the same camera.
    speeds = [r.speed for r in records]
    truck_speeds = [r.truck_speed for r in records]
    keys, rep, repeats, variants = dedup.split_identities(
        [r.ref or position_key(r.lat, r.lon, r.type) for r in records], cols["lat"], cols["lon"], cols["type"],
        cols["heading"], cols["dir_mode"], cols["end_lat"], cols["end_lon"], speeds, truck_speeds,
        settings.DEDUP_MAX_HEADING_DIFF)
    for i, j, d in repeats:
        # rows without an id are keyed by position and type: a repeat of that, not of an id
        what = "the same id listed again" if records[i].ref else "the same position and type listed again (no id)"
        report.merged.append((records[i].line, "repeat of line", records[j].line, round(d, 1),
                              f"{what}: " + _why(cols, i, j, d, dedup.REPEAT_RADIUS_M)))
    report.repeated_refs.extend((records[i].ref, records[i].line, records[j].line, round(d, 1))
                                for i, j, d in variants if records[i].ref)

    # 2. The same camera twice in this file: type, distance, direction (never two refs of it).
    uniq = np.nonzero(rep == np.arange(len(records)))[0]
    pairs = dedup.same_source_pairs(cols["lat"][uniq], cols["lon"][uniq], cols["type"][uniq],
                                    cols["heading"][uniq], cols["dir_mode"][uniq],
                                    [bool(records[i].ref) for i in uniq], [speeds[i] for i in uniq],
                                    [truck_speeds[i] for i in uniq],
                                    settings.DEDUP_RADIUS_M, settings.DEDUP_MAX_HEADING_DIFF,
                                    cols["end_lat"][uniq], cols["end_lon"][uniq])
    group = uniq[dedup.groups_from_pairs(len(uniq), pairs)]
    for pos, i in enumerate(uniq):
        g = group[pos]
        if g != i:
            rep[i] = g
            d = float(haversine_m(records[i].lat, records[i].lon, records[g].lat, records[g].lon))
            report.merged.append((records[i].line, "same camera as line", records[g].line, round(d, 1),
                                  _why(cols, i, g, d, settings.DEDUP_RADIUS_M)))
    rep = rep[rep]  # repeats of merged rows point at the final representative

    # 3. Known keys of this source.
    links = dict(CameraLink.objects.filter(source=src).values_list("ref", "camera_id"))
    camera_of = np.full(len(records), -1, dtype=np.int64)  # camera id per representative
    members: dict[int, list[int]] = {}
    for i, r in enumerate(rep):
        members.setdefault(int(r), []).append(i)
    for r, idx in members.items():
        for i in idx:
            cid = links.get(keys[i])
            if cid is not None:
                camera_of[r] = cid
                break

    # 4. New groups: the same camera already in the database (another source, or a retag).
    new_reps = np.array([r for r in members if camera_of[r] < 0], dtype=np.int64)
    if len(new_reps):
        old = list(Camera.objects.filter(status=Camera.Status.ACTIVE)
                   .values_list("id", "lat", "lon", "type", "heading", "dir_mode", "end_lat", "end_lon"))
        if old:
            old_ids = np.array([o[0] for o in old], dtype=np.int64)
            # A camera another row of this file already is cannot be this row's too.
            taken = np.isin(old_ids, camera_of[camera_of >= 0])
            old_cols = {
                "lat": np.array([o[1] for o in old]), "lon": np.array([o[2] for o in old]),
                "type": np.array([o[3] for o in old]),
                "heading": np.array([math.nan if o[4] is None else o[4] for o in old]),
                "dir_mode": np.array([o[5] for o in old]),
                "end_lat": np.array([math.nan if o[6] is None else o[6] for o in old]),
                "end_lon": np.array([math.nan if o[7] is None else o[7] for o in old]),
            }
            new_cols = {k: cols[k][new_reps] for k in ("lat", "lon", "type", "heading", "dir_mode", "end_lat", "end_lon")}
            best, dist = dedup.match_existing(new_cols, old_cols, settings.DEDUP_RADIUS_M, settings.DEDUP_MAX_HEADING_DIFF,
                                              one_to_one=True, taken=taken)
            for r, b, d in zip(new_reps, best, dist):
                if b >= 0:
                    camera_of[r] = old_ids[b]
                    why = dedup.merge_reason(cols["type"][r], float(d), settings.DEDUP_RADIUS_M, cols["heading"][r],
                                             cols["dir_mode"][r], old_cols["heading"][b], old_cols["dir_mode"][b])
                    report.merged.append((records[r].line, "same camera as existing camera", int(old_ids[b]),
                                          round(float(d), 1), why))

    # 5. Write: update known cameras, create the rest, link every key.
    known_reps = [r for r in members if camera_of[r] >= 0]
    existing = {}
    columns = ("id", "source_id", "status", *FEED_FIELDS)
    for chunk in _chunks([int(camera_of[r]) for r in known_reps], 900):
        existing.update((row[0], dict(zip(columns, row)))
                        for row in Camera.objects.filter(id__in=chunk).values_list(*columns))
    to_update = []
    for r in tqdm(known_reps, desc="comparing", disable=not progress or len(known_reps) < 5000, mininterval=0.5):
        cam = existing[int(camera_of[r])]
        values = _new_camera_values(records[r])
        changes = {}
        if cam["source_id"] != src.id:
            # Another source's camera: keep its position and type, fill in what it lacks.
            for name in ("speed", "truck_speed", "road", "description"):
                if cam[name] in (None, "") and values[name] not in (None, ""):
                    changes[name] = values[name]
            if cam["heading"] is None and values["heading"] is not None:
                changes["heading"], changes["dir_mode"] = values["heading"], values["dir_mode"]
        else:
            changes = {name: values[name] for name in FEED_FIELDS if cam[name] != values[name]}
        if cam["status"] != Camera.Status.ACTIVE:
            changes["status"] = Camera.Status.ACTIVE.value
            report.reactivated += 1
        if changes:
            cam.update(changes)
            to_update.append(cam)
            report.updated += 1
        else:
            report.unchanged += 1
    _update_cameras(to_update)
    for chunk in _chunks(existing, 900):
        Camera.objects.filter(id__in=chunk).update(last_seen=now)

    create_reps = [r for r in members if camera_of[r] < 0]
    if create_reps:
        ids = _insert_cameras(src, [records[r] for r in create_reps], [keys[r] for r in create_reps], now, progress)
        for r, cid in zip(create_reps, ids):
            camera_of[r] = cid
        report.created = len(create_reps)

    # Links: every key seen in this file points at its group's camera.
    seen_refs = {}
    for i, key in enumerate(keys):
        seen_refs[key] = int(camera_of[rep[i]])
    now_db = connection.ops.adapt_datetimefield_value(now)
    _executemany(CameraLink, ("camera_id", "source_id", "ref", "active", "last_seen"),
                 [(cid, src.id, ref, True, now_db) for ref, cid in seen_refs.items() if ref not in links])
    moved_links = [(ref, cid) for ref, cid in seen_refs.items() if ref in links and links[ref] != cid]
    for ref, cid in moved_links:
        CameraLink.objects.filter(source=src, ref=ref).update(camera_id=cid)
    seen_existing = [ref for ref in seen_refs if ref in links]
    for chunk in _chunks(seen_existing, 900):
        CameraLink.objects.filter(source=src, ref__in=chunk).update(active=True, last_seen=now)

    # 6. What disappeared from this source becomes inactive (never deleted), after a clean read only.
    if not deactivate:
        return
    gone = CameraLink.objects.filter(source=src, active=True).exclude(last_seen=now)
    gone_cameras = list(gone.values_list("camera_id", flat=True))
    gone.update(active=False)
    if gone_cameras:
        still_linked = set(CameraLink.objects.filter(camera_id__in=gone_cameras, active=True)
                           .values_list("camera_id", flat=True))
        dead = [c for c in set(gone_cameras) if c not in still_linked]
        for chunk in _chunks(dead, 900):
            report.deactivated += Camera.objects.filter(id__in=chunk, status=Camera.Status.ACTIVE).update(
                status=Camera.Status.INACTIVE)


def _why(cols, i, j, metres, radius_m):
    return dedup.merge_reason(cols["type"][i], metres, radius_m, cols["heading"][i], cols["dir_mode"][i],
                              cols["heading"][j], cols["dir_mode"][j])


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _allocate_ids(n: int) -> list[int]:
    """Reserve n camera ids inside the current transaction."""
    table = Camera._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            # the sequence looked up once (per row it costs more than the ids), the ids in one array
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cur.fetchone()[0]
            cur.execute("SELECT array_agg(nextval(%s::regclass)) FROM generate_series(1, %s)", [sequence, n])
            return sorted(cur.fetchone()[0])
        # SQLite: transactions start IMMEDIATE (settings), so no other writer is in between.
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        start = cur.fetchone()[0] + 1
        return list(range(start, start + n))


def _insert_cameras(src, records, keys, now, progress) -> list[int]:
    """Bulk insert with explicit ids: far faster than bulk_create on SQLite's parameter limit."""
    ids = _allocate_ids(len(records))
    fields = ["id", "source_id", "source_ref", "status", "first_seen", "last_seen", "last_verified", *FEED_FIELDS]
    ops = connection.ops
    now_db = ops.adapt_datetimefield_value(now)
    head = (src.id, Camera.Status.ACTIVE.value, now_db, now_db, None)
    rows = [(cid, head[0], key, *head[1:], *_new_camera_row(rec)) for cid, rec, key in zip(ids, records, keys)]
    _executemany(Camera, fields, rows, progress=progress, desc="writing cameras")
    return ids


def _executemany(model, fields, rows, *, progress=False, desc="writing", step=20000):
    """INSERT many rows with one prepared statement (no per-object ORM overhead); on
    PostgreSQL one COPY stream (psycopg's executemany costs a round trip per row)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for start in tqdm(range(0, len(rows), step), desc=desc, disable=not progress or len(rows) < step,
                                  unit="batch"):
                    for row in rows[start:start + step]:
                        copy.write_row(row)
            return
        for start in tqdm(range(0, len(rows), step), desc=desc, disable=not progress or len(rows) < step, unit="batch"):
            cur.executemany(sql, rows[start:start + step])


def _update_cameras(cams: list[dict]):
    """UPDATE the changed cameras (every feed column and the status) with one prepared statement."""
    if not cams:
        return
    fields = (*FEED_FIELDS, "status")
    table = connection.ops.quote_name(Camera._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f)} = %s" for f in fields)
    with connection.cursor() as cur:
        cur.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s",
                        [(*(cam[f] for f in fields), cam["id"]) for cam in cams])
