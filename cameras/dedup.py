"""Finding the same physical camera twice: vectorised neighbour search and merge groups.

Two records are the same camera when their types match, they lie within a radius
(default 30 m, ``DEDUP_RADIUS_M``) and their directions are compatible: either has no
direction, or the headings differ by at most ``DEDUP_MAX_HEADING_DIFF`` degrees (for a
"both directions" camera, the opposite heading counts too). Plain numpy/scipy, no Django.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from cameras.distance import EARTH_RADIUS_M, haversine_m
from exporters.schema import DirectionMode


def unit_vectors(lat, lon) -> np.ndarray:
    """Points on the unit sphere: Euclidean (chord) distance grows with true distance."""
    la = np.radians(np.asarray(lat, dtype=float))
    lo = np.radians(np.asarray(lon, dtype=float))
    cos_la = np.cos(la)
    return np.column_stack((cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)))


def chord(radius_m: float) -> float:
    return 2.0 * np.sin(radius_m / (2.0 * EARTH_RADIUS_M))


def directions_compatible(h1, m1, h2, m2, max_diff: float) -> np.ndarray:
    """Vectorised: may two cameras with these headings and modes be the same device?"""
    h1 = np.asarray(h1, dtype=float)
    h2 = np.asarray(h2, dtype=float)
    m1 = np.asarray(m1)
    m2 = np.asarray(m2)
    undirected = (m1 == DirectionMode.ALL) | (m2 == DirectionMode.ALL) | np.isnan(h1) | np.isnan(h2)
    diff = np.abs(np.nan_to_num(h1) - np.nan_to_num(h2)) % 360.0
    diff = np.minimum(diff, 360.0 - diff)
    either_both = (m1 == DirectionMode.BOTH) | (m2 == DirectionMode.BOTH)
    diff = np.where(either_both, np.minimum(diff, 180.0 - diff), diff)
    return undirected | (diff <= max_diff)


def ends_compatible(end_lat1, end_lon1, end_lat2, end_lon2, radius_m: float) -> np.ndarray:
    """Stretches (with an end point) match only stretches ending within the radius; points match points."""
    e1 = ~np.isnan(np.asarray(end_lat1, dtype=float))
    e2 = ~np.isnan(np.asarray(end_lat2, dtype=float))
    both = e1 & e2
    close = np.zeros(len(e1), dtype=bool)
    if both.any():
        close[both] = haversine_m(np.asarray(end_lat1)[both], np.asarray(end_lon1)[both],
                                  np.asarray(end_lat2)[both], np.asarray(end_lon2)[both]) <= radius_m
    return (~e1 & ~e2) | close


def same_camera_pairs(lat, lon, types, headings, modes, radius_m: float, max_heading_diff: float,
                      end_lat=None, end_lon=None) -> np.ndarray:
    """Pairs (i, j), i < j, of rows within one set that are the same camera. Shape (n, 2)."""
    if len(lat) < 2:
        return np.empty((0, 2), dtype=np.int64)
    tree = cKDTree(unit_vectors(lat, lon))
    pairs = tree.query_pairs(chord(radius_m), output_type="ndarray")
    if len(pairs) == 0:
        return pairs.reshape(0, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    types = np.asarray(types)
    ok = types[i] == types[j]
    ok &= directions_compatible(np.asarray(headings)[i], np.asarray(modes)[i],
                                np.asarray(headings)[j], np.asarray(modes)[j], max_heading_diff)
    if end_lat is not None:
        end_lat, end_lon = np.asarray(end_lat, dtype=float), np.asarray(end_lon, dtype=float)
        ok &= ends_compatible(end_lat[i], end_lon[i], end_lat[j], end_lon[j], radius_m)
    return pairs[ok]


def match_existing(new, old, radius_m: float, max_heading_diff: float) -> tuple[np.ndarray, np.ndarray]:
    """For each new row, the index of the closest matching old row (or -1) and the distance.

    ``new`` and ``old`` are dicts of arrays with keys lat, lon, type, heading, dir_mode and
    optionally end_lat, end_lon (stretches).
    """
    n = len(new["lat"])
    best = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    if n == 0 or len(old["lat"]) == 0:
        return best, dist
    tree = cKDTree(unit_vectors(old["lat"], old["lon"]))
    # Up to 4 neighbours within the radius are plenty for a 30 m radius.
    d, idx = tree.query(unit_vectors(new["lat"], new["lon"]), k=4, distance_upper_bound=chord(radius_m))
    for col in range(idx.shape[1]):
        cand = idx[:, col]
        valid = (cand < len(old["lat"])) & (best < 0)
        if not valid.any():
            continue
        rows = np.nonzero(valid)[0]
        c = cand[rows]
        ok = np.asarray(new["type"])[rows] == np.asarray(old["type"])[c]
        ok &= directions_compatible(np.asarray(new["heading"])[rows], np.asarray(new["dir_mode"])[rows],
                                    np.asarray(old["heading"])[c], np.asarray(old["dir_mode"])[c], max_heading_diff)
        if "end_lat" in new and "end_lat" in old:
            ok &= ends_compatible(np.asarray(new["end_lat"])[rows], np.asarray(new["end_lon"])[rows],
                                  np.asarray(old["end_lat"])[c], np.asarray(old["end_lon"])[c], radius_m)
        rows, c = rows[ok], c[ok]
        best[rows] = c
        dist[rows] = haversine_m(np.asarray(new["lat"])[rows], np.asarray(new["lon"])[rows],
                                 np.asarray(old["lat"])[c], np.asarray(old["lon"])[c])
    return best, dist


def groups_from_pairs(n: int, pairs: np.ndarray) -> np.ndarray:
    """Star groups: for each of n rows, the index of its group's representative.

    Rows are taken in order; a row not yet in a group represents itself and takes in its
    not-yet-grouped partners. Every member is thus a direct match of its representative
    (no chains: A~B and B~C never pull C to A beyond the radius).
    """
    rep = np.arange(n)
    if len(pairs) == 0:
        return rep
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    grouped = np.zeros(n, dtype=bool)
    for i, j in pairs.tolist():
        if not grouped[i] and not grouped[j]:
            rep[j] = i
            grouped[j] = True
    return rep
