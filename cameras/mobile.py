"""Mobile zones: reports of mobile checks aggregated by place.

Reports within the time window (``MOBILE_ZONE_WINDOW_DAYS``) that lie within
``MOBILE_ZONE_RADIUS_M`` of each other (chained) form one place. A place becomes a
published mobile zone (an active camera of kind mobile, type mobile-zone, in the
``mobile-reports`` source) only when it has at least ``MOBILE_ZONE_MIN_REPORTS`` reports;
its ``reports`` field ranks it. Zones keep their camera id from one run to the next
(matched by position), and a zone that falls below the threshold becomes inactive.

``store_reports`` stores the reports of one import. A report is keyed by its ref (or, without
one, by place and time). A ref that comes again with another time or place (beyond
``REPORT_SAME_PLACE_M``) is another sighting: it is stored under the ref plus its time and
place, a key that depends only on the row, so the same file imported again stores nothing
twice. A ref that comes again with the same time and place is the same sighting: it is not
stored again, and the result says which line repeats which (never dropped silently).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cameras import dedup
from cameras.distance import haversine_m
from cameras.models import Camera, CameraLink, MobileReport, Source
from exporters.schema import CameraType, DirectionMode, Kind

ZONE_SOURCE = "mobile-reports"
# The same report listed twice: same ref, same time, positions within this distance.
REPORT_SAME_PLACE_M = 5.0


@dataclass
class ZoneResult:
    places: int
    published: int
    created: int
    updated: int
    retired: int
    top: list  # (camera id, reports, country, lat, lon)

    def as_dict(self):
        return {"places": self.places, "published": self.published, "created": self.created,
                "updated": self.updated, "retired": self.retired}


@transaction.atomic
def aggregate_mobile_zones(now=None, window_days=None, min_reports=None, radius_m=None) -> ZoneResult:
    now = now or timezone.now()
    window_days = settings.MOBILE_ZONE_WINDOW_DAYS if window_days is None else window_days
    min_reports = settings.MOBILE_ZONE_MIN_REPORTS if min_reports is None else min_reports
    radius_m = settings.MOBILE_ZONE_RADIUS_M if radius_m is None else radius_m

    rows = list(MobileReport.objects.filter(reported_at__gte=now - timedelta(days=window_days), reported_at__lte=now)
                .values_list("lat", "lon", "country", "road", "reported_at"))
    src, _ = Source.objects.get_or_create(name=ZONE_SOURCE)
    zones = []  # (lat, lon, count, country, road, last report)
    if rows:
        lat = np.array([r[0] for r in rows])
        lon = np.array([r[1] for r in rows])
        zeros = np.zeros(len(rows))
        pairs = dedup.same_camera_pairs(lat, lon, zeros, zeros * np.nan, zeros, radius_m, 180.0)
        group = dedup.groups_from_pairs(len(rows), pairs)
        order = np.argsort(group, kind="stable")
        bounds = np.nonzero(np.diff(group[order]))[0] + 1
        for idx in np.split(order, bounds):
            country = Counter(rows[i][2] for i in idx).most_common(1)[0][0]
            road = Counter(rows[i][3] for i in idx).most_common(1)[0][0]
            last = max(rows[i][4] for i in idx)
            zones.append((float(lat[idx].mean()), float(lon[idx].mean()), len(idx), country, road, last))
    published = [z for z in zones if z[2] >= min_reports]

    existing = list(Camera.objects.filter(source=src).values_list("id", "lat", "lon"))
    matched: dict[int, int] = {}
    if existing and published:
        old = {"lat": np.array([e[1] for e in existing]), "lon": np.array([e[2] for e in existing]),
               "type": np.zeros(len(existing)), "heading": np.full(len(existing), np.nan), "dir_mode": np.zeros(len(existing))}
        new = {"lat": np.array([z[0] for z in published]), "lon": np.array([z[1] for z in published]),
               "type": np.zeros(len(published)), "heading": np.full(len(published), np.nan), "dir_mode": np.zeros(len(published))}
        best, _ = dedup.match_existing(new, old, radius_m, 180.0)
        for i, b in enumerate(best):
            if b >= 0 and existing[b][0] not in matched.values():
                matched[i] = existing[b][0]

    created = updated = 0
    kept_ids = set()
    result_top = []
    for i, (zlat, zlon, count, country, road, last) in enumerate(published):
        values = dict(kind=Kind.MOBILE, type=CameraType.MOBILE_ZONE, lat=round(zlat, 6), lon=round(zlon, 6),
                      country=country, road=road, reports=count, dir_mode=DirectionMode.ALL,
                      status=Camera.Status.ACTIVE, last_seen=last, last_verified=last,
                      description=f"Mobile checks reported {count} times in {window_days} days")
        if i in matched:
            Camera.objects.filter(id=matched[i]).update(**values)
            cid = matched[i]
            updated += 1
        else:
            ref = f"zone@{zlat:.4f},{zlon:.4f}"
            cam = Camera.objects.create(source=src, source_ref=ref, first_seen=now, **values)
            CameraLink.objects.update_or_create(source=src, ref=ref, defaults={"camera": cam, "active": True})
            cid = cam.id
            created += 1
        kept_ids.add(cid)
        result_top.append((cid, count, country, zlat, zlon))
    retired = (Camera.objects.filter(source=src, status=Camera.Status.ACTIVE).exclude(id__in=kept_ids)
               .update(status=Camera.Status.INACTIVE))
    result_top.sort(key=lambda t: -t[1])
    return ZoneResult(places=len(zones), published=len(published), created=created, updated=updated,
                      retired=retired, top=result_top[:20])


@dataclass
class StoredReports:
    stored: int
    repeats: list  # (line, why it was not stored again)
    variants: list  # (ref, line, first line with that ref, metres): stored as another sighting


def _report_key(rec) -> str:
    return rec.ref or f"@{rec.lat:.5f},{rec.lon:.5f}@{rec.reported_at.isoformat()}"


def store_reports(src: Source, sightings) -> StoredReports:
    """Store the mobile reports (``Record`` with ``reported_at``) of one import of ``src``."""
    known = {ref: (lat, lon, at, None) for ref, lat, lon, at in
             MobileReport.objects.filter(source=src).values_list("ref", "lat", "lon", "reported_at")}
    first_line: dict[str, int] = {}
    new, repeats, variants = [], [], []
    for rec in sightings:
        base = _report_key(rec)
        first_line.setdefault(base, rec.line)
        key = base
        if base in known and not _same_sighting(known[base], rec):
            key = f"{base}@{rec.reported_at.isoformat()}@{rec.lat:.5f},{rec.lon:.5f}"[:200]
            lat, lon = known[base][:2]
            variants.append((rec.ref, rec.line, first_line[base], round(float(haversine_m(lat, lon, rec.lat, rec.lon)), 1)))
        if key in known:
            lat, lon, at, line = known[key]
            if _same_sighting(known[key], rec):
                where = f"line {line}" if line is not None else "a report stored before"
                repeats.append((rec.line, f"the same report (ref '{key}', same time and place) as {where}"))
                continue
            # Even the time-and-place key is taken by something else: number it.
            n = 2
            while f"{key}#{n}" in known:
                n += 1
            key = f"{key}#{n}"
        known[key] = (rec.lat, rec.lon, rec.reported_at, rec.line)
        new.append(MobileReport(source=src, ref=key, lat=rec.lat, lon=rec.lon, country=rec.country,
                                reported_at=rec.reported_at, road=rec.road[:200]))
    MobileReport.objects.bulk_create(new, batch_size=2000)
    return StoredReports(stored=len(new), repeats=repeats, variants=variants)


def _same_sighting(stored, rec) -> bool:
    lat, lon, at = stored[:3]
    return at == rec.reported_at and float(haversine_m(lat, lon, rec.lat, rec.lon)) <= REPORT_SAME_PLACE_M
