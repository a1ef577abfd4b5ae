"""Finding the same physical camera twice: vectorised neighbour search and merge groups.

Two records are the same camera when their types match, they lie within a radius
(default 30 m, ``DEDUP_RADIUS_M``) and their directions are compatible: either has no
direction, or the headings differ by at most ``DEDUP_MAX_HEADING_DIFF`` degrees (for a
"both directions" camera, the opposite heading counts too). Plain numpy/scipy, no Django.

Identity comes before merging, and no rule ever loses a camera:

- ``split_identities``: a source id (ref) that repeats at another place (beyond
  ``REPEAT_RADIUS_M``), with another type, an incompatible direction, another end point or
  another speed is a different camera; it gets its own key, the ref plus a position suffix
  (``variant_key``), which depends only on the row, so re-importing the same file finds the
  same keys. A true repeat (same ref, same type, within a few metres, compatible direction)
  is the same camera listed twice. Rows without a ref are keyed by position and type, and
  the same rule splits two such rows that face incompatible directions.
- ``same_source_pairs``: within one source, two rows the source lists under distinct refs
  are two cameras (A/B cameras, one per carriageway), and rows with different known speeds
  are never merged; merging by position is for rows without a ref and for the same camera
  seen by several sources (``match_existing``).
- ``match_existing`` with ``one_to_one``: each existing camera takes at most one new row,
  so two cameras of a file never fold into one known camera.
- ``merge_reason`` says why two records were taken for one camera, with the real distance.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.spatial import cKDTree

from cameras.distance import EARTH_RADIUS_M, haversine_m
from exporters.schema import CameraType, DirectionMode

# A ref listed twice within this distance (same type, compatible direction) is one camera.
REPEAT_RADIUS_M = 5.0
# Keys are stored in CameraLink.ref / Camera.source_ref (200 characters).
KEY_MAX = 200


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


def match_existing(new, old, radius_m: float, max_heading_diff: float, *, one_to_one: bool = False,
                   taken=None) -> tuple[np.ndarray, np.ndarray]:
    """For each new row, the index of the closest matching old row (or -1) and the distance.

    ``new`` and ``old`` are dicts of arrays with keys lat, lon, type, heading, dir_mode and
    optionally end_lat, end_lon (stretches). With ``one_to_one`` an old row goes to at most
    one new row (the closest; the others try their next candidates); old rows flagged in
    ``taken`` (a boolean array) are never matched.
    """
    n = len(new["lat"])
    best = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    if n == 0 or len(old["lat"]) == 0:
        return best, dist
    used = np.zeros(len(old["lat"]), dtype=bool) if taken is None else np.array(taken, dtype=bool)
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
        if one_to_one or taken is not None:
            free = ~used[c]
            rows, c = rows[free], c[free]
        if one_to_one and len(rows):
            # The closest new row takes each old row; the others try their next candidate.
            order = np.argsort(d[rows, col], kind="stable")
            rows, c = rows[order], c[order]
            _, first = np.unique(c, return_index=True)
            rows, c = rows[first], c[first]
            used[c] = True
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


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and np.isnan(x))


def _one_way(heading, mode) -> bool:
    return _finite(heading) and int(mode) != DirectionMode.ALL


def merge_reason(type_, metres: float, radius_m: float, h1, m1, h2, m2) -> str:
    """Why two records were taken for one camera: type, real distance and directions."""
    try:
        label = CameraType(int(type_)).label
    except ValueError:
        label = f"type {type_}"
    if _one_way(h1, m1) and _one_way(h2, m2):
        ways = " (one both ways)" if DirectionMode.BOTH in (int(m1), int(m2)) else ""
        dirs = f"headings {float(h1):.0f}° and {float(h2):.0f}° agree{ways}"
    else:
        dirs = "one of them has no direction"
    return f"same type ({label}), {metres:.1f} m apart (limit {radius_m:g} m), {dirs}"


def _fit_key(key: str, base: str) -> str:
    """Cut the ref part of an over-long key, keeping its suffix and a checksum of the ref."""
    if len(key) <= KEY_MAX:
        return key
    suffix = key[len(base):]
    digest = hashlib.sha1(base.encode("utf-8")).hexdigest()[:10]
    return base[:KEY_MAX - len(suffix) - 11] + "~" + digest + suffix


def variant_key(base: str, lat: float, lon: float, type_: int, heading, used) -> str:
    """The key of a camera whose ref (or position key) is already taken by another camera.

    The ref plus the position (1e-5 degrees) and type; then the heading, then a counter,
    only as far as needed to be unique in ``used``. It depends only on the row and on the
    rows before it, so the same file imported again yields the same keys.
    """
    key = base if base.startswith("@") else f"{base}@{lat:.5f},{lon:.5f}/{int(type_)}"
    if (key in used or key == base) and _finite(heading):
        key += f"/h{float(heading) % 360:.0f}"
    cand, n = key, 2
    while cand in used or cand == base:
        cand, n = f"{key}#{n}", n + 1
    return _fit_key(cand, base)


def _speeds_conflict(a, b) -> bool:
    return a is not None and b is not None and a != b


def split_identities(base_keys, lat, lon, types, headings, modes, end_lat, end_lon, speeds, truck_speeds,
                     max_heading_diff: float, repeat_radius_m: float = REPEAT_RADIUS_M):
    """Give every row a key that names one camera.

    ``base_keys`` are the rows' refs (or position keys, starting with ``@``). A row whose
    base key was seen before is a true repeat of that earlier row when it has the same type,
    lies within ``repeat_radius_m``, has a compatible direction and end point and no other
    speed; then it takes that row's key. Otherwise it is another camera and gets a
    ``variant_key``.

    Returns ``keys`` (one per row), ``rep`` (for each row, the row it repeats, else itself),
    ``repeats`` [(row, earlier row, metres)] and ``variants`` [(row, first row with that
    base key, metres)].
    """
    n = len(base_keys)
    keys = list(base_keys)
    rep = np.arange(n)
    repeats, variants = [], []
    seen: dict[str, list[int]] = {}   # base key -> rows that own a distinct key under it
    used = set(base_keys)
    for i, base in enumerate(base_keys):
        owners = seen.get(base)
        if owners is None:
            seen[base] = [i]
            continue
        owner_idx = np.array(owners)
        d = haversine_m(lat[i], lon[i], lat[owner_idx], lon[owner_idx])
        ok = (types[owner_idx] == types[i]) & (d <= repeat_radius_m)
        ok &= directions_compatible(np.full(len(owners), headings[i]), np.full(len(owners), modes[i]),
                                    headings[owner_idx], modes[owner_idx], max_heading_diff)
        ok &= ends_compatible(np.full(len(owners), end_lat[i]), np.full(len(owners), end_lon[i]),
                              end_lat[owner_idx], end_lon[owner_idx], repeat_radius_m)
        ok &= np.array([not _speeds_conflict(speeds[i], speeds[j]) and
                        not _speeds_conflict(truck_speeds[i], truck_speeds[j]) for j in owners])
        if ok.any():
            k = int(np.flatnonzero(ok)[np.argmin(d[ok])])
            j = owners[k]
            rep[i] = j
            keys[i] = keys[j]
            repeats.append((i, j, float(d[k])))
        else:
            key = variant_key(base, float(lat[i]), float(lon[i]), int(types[i]), headings[i], used)
            used.add(key)
            keys[i] = key
            owners.append(i)
            variants.append((i, owners[0], float(d[0])))
    return keys, rep, repeats, variants


def same_source_pairs(lat, lon, types, headings, modes, has_ref, speeds, truck_speeds, radius_m: float,
                      max_heading_diff: float, end_lat=None, end_lon=None) -> np.ndarray:
    """``same_camera_pairs`` for rows of one source: never two rows the source lists under
    distinct refs, never two rows with different known speeds (or truck speeds)."""
    pairs = same_camera_pairs(lat, lon, types, headings, modes, radius_m, max_heading_diff, end_lat, end_lon)
    if len(pairs) == 0:
        return pairs
    has_ref = np.asarray(has_ref, dtype=bool)
    i, j = pairs[:, 0], pairs[:, 1]
    ok = ~(has_ref[i] & has_ref[j])
    for s in (speeds, truck_speeds):
        s = np.asarray([np.nan if v is None else v for v in s], dtype=float)
        ok &= ~(~np.isnan(s[i]) & ~np.isnan(s[j]) & (s[i] != s[j]))
    return pairs[ok]
