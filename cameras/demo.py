"""Deterministic generated camera data: the demo database for ./run and the benchmark sets.

No third-party data: cameras are scattered by the project around real city positions
(facts) and along the roads between them, then kept only where they fall inside a country
polygon. The same seed and size always give the same file.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from cameras.geo import assign_countries
from exporters.schema import CameraType, DirectionMode, Kind

# (country, name, lat, lon, weight)
EUROPE = [
    ("FR", "Paris", 48.8566, 2.3522, 9), ("FR", "Lyon", 45.7640, 4.8357, 4), ("FR", "Marseille", 43.2965, 5.3698, 4),
    ("FR", "Toulouse", 43.6047, 1.4442, 3), ("FR", "Bordeaux", 44.8378, -0.5792, 3), ("FR", "Lille", 50.6292, 3.0573, 3),
    ("FR", "Nantes", 47.2184, -1.5536, 3), ("FR", "Strasbourg", 48.5734, 7.7521, 2), ("FR", "Clermont-Ferrand", 45.7772, 3.0870, 2),
    ("DE", "Berlin", 52.5200, 13.4050, 5), ("DE", "Hamburg", 53.5511, 9.9937, 3), ("DE", "München", 48.1351, 11.5820, 4),
    ("DE", "Köln", 50.9375, 6.9603, 4), ("DE", "Frankfurt", 50.1109, 8.6821, 3), ("DE", "Stuttgart", 48.7758, 9.1829, 3),
    ("IT", "Roma", 41.9028, 12.4964, 5), ("IT", "Milano", 45.4642, 9.1900, 5), ("IT", "Napoli", 40.8518, 14.2681, 3),
    ("IT", "Torino", 45.0703, 7.6869, 3), ("IT", "Bologna", 44.4949, 11.3426, 3),
    ("ES", "Madrid", 40.4168, -3.7038, 5), ("ES", "Barcelona", 41.3874, 2.1686, 4), ("ES", "Valencia", 39.4699, -0.3763, 3),
    ("ES", "Sevilla", 37.3891, -5.9845, 3), ("ES", "Zaragoza", 41.6488, -0.8891, 2),
    ("GB", "London", 51.5072, -0.1276, 6), ("GB", "Birmingham", 52.4862, -1.8904, 3), ("GB", "Manchester", 53.4808, -2.2426, 3),
    ("GB", "Leeds", 53.8008, -1.5491, 2), ("GB", "Glasgow", 55.8642, -4.2518, 2),
    ("NL", "Amsterdam", 52.3676, 4.9041, 3), ("NL", "Rotterdam", 51.9244, 4.4777, 2), ("NL", "Utrecht", 52.0907, 5.1214, 2),
    ("BE", "Bruxelles", 50.8503, 4.3517, 3), ("BE", "Antwerpen", 51.2194, 4.4025, 2), ("BE", "Liège", 50.6326, 5.5797, 2),
    ("CH", "Zürich", 47.3769, 8.5417, 2), ("CH", "Bern", 46.9480, 7.4474, 1),
    ("AT", "Wien", 48.2082, 16.3738, 3), ("AT", "Graz", 47.0707, 15.4395, 1), ("AT", "Innsbruck", 47.2692, 11.4041, 1),
    ("PL", "Warszawa", 52.2297, 21.0122, 3), ("PL", "Kraków", 50.0647, 19.9450, 2), ("PL", "Poznań", 52.4064, 16.9252, 2),
    ("CZ", "Praha", 50.0755, 14.4378, 2), ("CZ", "Brno", 49.1951, 16.6068, 1),
    ("PT", "Lisboa", 38.7223, -9.1393, 2), ("PT", "Porto", 41.1579, -8.6291, 2),
    ("SE", "Stockholm", 59.3293, 18.0686, 2), ("SE", "Göteborg", 57.7089, 11.9746, 1),
    ("NO", "Oslo", 59.9139, 10.7522, 2), ("DK", "København", 55.6761, 12.5683, 1), ("IE", "Dublin", 53.3498, -6.2603, 1),
    ("LU", "Luxembourg", 49.6116, 6.1319, 1), ("HU", "Budapest", 47.4979, 19.0402, 1), ("GR", "Athína", 37.9838, 23.7275, 1),
    ("RO", "Bucureşti", 44.4268, 26.1025, 1), ("FI", "Helsinki", 60.1699, 24.9384, 1),
]
WORLD_EXTRA = [
    ("US", "New York", 40.7128, -74.0060, 5), ("US", "Los Angeles", 34.0522, -118.2437, 5), ("US", "Chicago", 41.8781, -87.6298, 3),
    ("US", "Houston", 29.7604, -95.3698, 3), ("CA", "Toronto", 43.6532, -79.3832, 2), ("BR", "São Paulo", -23.5505, -46.6333, 4),
    ("AU", "Sydney", -33.8688, 151.2093, 3), ("AU", "Melbourne", -37.8136, 144.9631, 3), ("ZA", "Johannesburg", -26.2041, 28.0473, 2),
    ("RU", "Moskva", 55.7558, 37.6173, 4), ("TR", "İstanbul", 41.0082, 28.9784, 3), ("IN", "Delhi", 28.7041, 77.1025, 2),
    ("JP", "Tokyo", 35.6762, 139.6503, 2), ("CN", "Beijing", 39.9042, 116.4074, 2), ("MX", "Ciudad de México", 19.4326, -99.1332, 2),
    ("AR", "Buenos Aires", -34.6037, -58.3816, 2),
]

# Type mix of a fixed-camera database (fractions add up to 1).
TYPE_MIX = [
    (CameraType.SPEED, 0.56), (CameraType.RED_LIGHT, 0.12), (CameraType.RED_LIGHT_SPEED, 0.06),
    (CameraType.SECTION_START, 0.035), (CameraType.SECTION_END, 0.035), (CameraType.SECTION, 0.02),
    (CameraType.TUNNEL, 0.01), (CameraType.VARIABLE_LIMIT, 0.03), (CameraType.DANGER_ZONE, 0.03),
    (CameraType.LEVEL_CROSSING, 0.02), (CameraType.DISTANCE, 0.01), (CameraType.BUS_LANE, 0.01),
    (CameraType.OTHER, 0.005), (CameraType.MOBILE_CAMERA, 0.04), (CameraType.POLICE_CHECK, 0.015),
]
URBAN = np.array([30, 50, 50, 50, 70])
ROAD = np.array([70, 80, 80, 90, 100, 110])
MOTORWAY = np.array([110, 120, 130, 130])

COLUMNS = ["ref", "kind", "type", "lat", "lon", "speed", "truck_speed", "heading", "direction",
           "road", "description", "end_lat", "end_lon", "reported_at"]


def _cities(world: bool):
    cities = EUROPE + (WORLD_EXTRA if world else [])
    return cities


def generate(n: int, *, seed: int = 42, world: bool = False, keep_on_land: bool = True) -> dict[str, np.ndarray]:
    """n cameras as columns (lat, lon, type, kind, speed, truck_speed, heading, dir_mode, road, city)."""
    rng = np.random.default_rng(seed)
    cities = _cities(world)
    weights = np.array([c[4] for c in cities], dtype=float)
    weights /= weights.sum()
    clat = np.array([c[2] for c in cities])
    clon = np.array([c[3] for c in cities])
    out = {k: [] for k in ("lat", "lon", "city", "dist")}
    have = 0
    want = n
    while have < n:
        m = int((want - have) * 1.3) + 64
        a = rng.choice(len(cities), size=m, p=weights)
        # 55 % in town (Gaussian around the centre), 45 % on a road towards another city.
        on_road = rng.random(m) < 0.45
        b = rng.choice(len(cities), size=m, p=weights)
        t = rng.random(m)
        lat = np.where(on_road, clat[a] + t * (clat[b] - clat[a]), clat[a]) + rng.normal(0, 1, m) * np.where(on_road, 0.05, 0.08)
        lon = np.where(on_road, clon[a] + t * (clon[b] - clon[a]), clon[a]) + rng.normal(0, 1, m) * np.where(on_road, 0.05, 0.11)
        # Roads between cities more than 1500 km apart are not roads: put those in town.
        far = np.hypot(clat[b] - clat[a], clon[b] - clon[a]) > 14
        lat = np.where(far, clat[a] + rng.normal(0, 0.08, m), lat)
        lon = np.where(far, clon[a] + rng.normal(0, 0.11, m), lon)
        dist = np.where(on_road & ~far, np.minimum(t, 1 - t) * np.hypot(clat[b] - clat[a], clon[b] - clon[a]), 0.0)
        if keep_on_land:
            ok = assign_countries(lat, lon, tolerance_km=0.0) != ""
        else:
            ok = np.ones(m, dtype=bool)
        for key, val in (("lat", lat[ok]), ("lon", lon[ok]), ("city", a[ok]), ("dist", dist[ok])):
            out[key].append(val)
        have += int(ok.sum())
    cols = {k: np.concatenate(v)[:n] for k, v in out.items()}
    n = len(cols["lat"])

    types = np.array([t for t, _ in TYPE_MIX])
    p = np.array([f for _, f in TYPE_MIX])
    cols["type"] = rng.choice(types, size=n, p=p / p.sum()).astype(np.int16)
    mobile = np.isin(cols["type"], [CameraType.MOBILE_CAMERA, CameraType.POLICE_CHECK])
    cols["kind"] = np.where(mobile, Kind.MOBILE, Kind.FIXED).astype(np.int8)
    # Speed by road class: town, road, motorway (far from towns).
    dist = cols["dist"]
    speed = np.where(dist < 0.15, rng.choice(URBAN, n), np.where(dist < 1.0, rng.choice(ROAD, n), rng.choice(MOTORWAY, n)))
    no_speed = np.isin(cols["type"], [CameraType.RED_LIGHT, CameraType.BUS_LANE, CameraType.LEVEL_CROSSING,
                                      CameraType.DANGER_ZONE, CameraType.POLICE_CHECK, CameraType.OTHER])
    cols["speed"] = np.where(no_speed, 0, speed).astype(np.int16)
    truck = (rng.random(n) < 0.15) & (cols["speed"] > 80)
    cols["truck_speed"] = np.where(truck, np.minimum(cols["speed"], 90) - 10, 0).astype(np.int16)
    # Direction: 60 % one way with a heading, 25 % both ways, 15 % all directions.
    r = rng.random(n)
    cols["dir_mode"] = np.where(r < 0.60, DirectionMode.ONE, np.where(r < 0.85, DirectionMode.BOTH, DirectionMode.ALL)).astype(np.int8)
    heading = np.round(rng.random(n) * 360.0, 1) % 360.0
    cols["heading"] = np.where(cols["dir_mode"] == DirectionMode.ALL, np.nan, heading)
    # Sections: an end point 2-8 km along the heading.
    section = cols["type"] == CameraType.SECTION
    length_deg = rng.uniform(0.02, 0.07, n)
    hd = np.radians(np.nan_to_num(heading))
    cols["end_lat"] = np.where(section, cols["lat"] + length_deg * np.cos(hd), np.nan)
    cols["end_lon"] = np.where(section, cols["lon"] + length_deg * np.sin(hd) / np.cos(np.radians(cols["lat"])), np.nan)
    roads = np.array(["A", "N", "D", "M", "E", "B", "SS", "R"])
    cols["road"] = np.char.add(rng.choice(roads, n), rng.integers(1, 120, n).astype(str))
    return cols


def write_csv(path: Path, cols: dict[str, np.ndarray], *, ref_prefix: str = "demo-", cities=None) -> int:
    """Write generated cameras in the project's own CSV format (docs/feed-csv.md)."""
    cities = cities or (EUROPE + WORLD_EXTRA)
    n = len(cols["lat"])
    mode_names = {0: "all", 1: "one", 2: "both"}
    type_slugs = {t.value: t.slug for t in CameraType}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        for i in range(n):
            kind = "mobile" if cols["kind"][i] == Kind.MOBILE else "fixed"
            t = int(cols["type"][i])
            sp = int(cols["speed"][i])
            tr = int(cols["truck_speed"][i])
            h = cols["heading"][i]
            el, eo = cols["end_lat"][i], cols["end_lon"][i]
            city = cities[int(cols["city"][i])][1]
            w.writerow([f"{ref_prefix}{i + 1}", kind, type_slugs[t], f"{cols['lat'][i]:.6f}", f"{cols['lon'][i]:.6f}",
                        sp or "", tr or "", "" if np.isnan(h) else f"{h:.1f}", mode_names[int(cols['dir_mode'][i])],
                        cols["road"][i], f"{CameraType(t).label}, {city}",
                        "" if np.isnan(el) else f"{el:.6f}", "" if np.isnan(eo) else f"{eo:.6f}", ""])
    return n


def write_mobile_reports(path: Path, *, places: int = 120, seed: int = 7, today: datetime | None = None) -> int:
    """Reports of mobile checks: a few busy places reported often, many reported once or twice."""
    rng = np.random.default_rng(seed)
    today = (today or datetime.now(timezone.utc)).replace(hour=12, minute=0, second=0, microsecond=0)
    base = generate(places, seed=seed + 1)
    counts = np.minimum(rng.geometric(0.25, places), 25)
    rows = 0
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        for p in range(places):
            for k in range(int(counts[p])):
                lat = base["lat"][p] + rng.normal(0, 0.0004)
                lon = base["lon"][p] + rng.normal(0, 0.0006)
                when = today - timedelta(days=int(rng.integers(0, 60)), minutes=int(rng.integers(0, 1440)))
                rows += 1
                w.writerow([f"report-{p + 1}-{k + 1}", "mobile", "mobile-camera", f"{lat:.6f}", f"{lon:.6f}",
                            "", "", "", "all", base["road"][p], "Mobile check reported", "", "", when.isoformat()])
    return rows
