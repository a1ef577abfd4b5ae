"""Finding the same physical camera twice: vectorised neighbour search and merge groups.

Two records are the same camera when their types match, they lie within a radius
(default 30 m, ``DEDUP_RADIUS_M``) and their directions are compatible: either has no
direction, or the headings differ by at most ``DEDUP_MAX_HEADING_DIFF`` degrees (for a
"both directions" camera, the opposite heading counts too). Plain numpy/scipy, no Django.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from exporters.schema import DirectionMode

EARTH_RADIUS_M = 6_371_008.8


def unit_vectors(lat, lon) -> np.ndarray:
    """Points on the unit sphere: Euclidean (chord) distance grows with true distance."""
    la = np.radians(np.asarray(lat, dtype=float))
    lo = np.radians(np.asarray(lon, dtype=float))
    cos_la = np.cos(la)
    return np.column_stack((cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)))


def chord(radius_m: float) -> float:
    return 2.0 * np.sin(radius_m / (2.0 * EARTH_RADIUS_M))


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


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


def same_camera_pairs(lat, lon, types, headings, modes, radius_m: float, max_heading_diff: float) -> np.ndarray:
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
    return pairs[ok]


def match_existing(new, old, radius_m: float, max_heading_diff: float) -> tuple[np.ndarray, np.ndarray]:
    """For each new row, the index of the closest matching old row (or -1) and the distance.

    ``new`` and ``old`` are dicts of arrays with keys lat, lon, type, heading, dir_mode.
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
        rows, c = rows[ok], c[ok]
        best[rows] = c
        dist[rows] = haversine_m(np.asarray(new["lat"])[rows], np.asarray(new["lon"])[rows],
                                 np.asarray(old["lat"])[c], np.asarray(old["lon"])[c])
    return best, dist


def groups_from_pairs(n: int, pairs: np.ndarray) -> np.ndarray:
    """Union-find: for each of n rows, the smallest row index of its group."""
    if len(pairs) == 0:
        return np.arange(n)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # Representative = smallest index per label.
    rep = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(rep, labels, np.arange(n))
    return rep[labels]
