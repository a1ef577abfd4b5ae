"""Distances on the Earth: the one haversine of the project, in (lat, lon) order.

Every great-circle distance in the project comes from here: ``haversine_km`` and
``haversine_m`` take ``(lat1, lon1, lat2, lon2)`` in degrees (scalars or numpy arrays,
broadcast together) on a sphere of the mean Earth radius. Plain numpy, no Django.
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.0088          # the mean radius (IUGG)
EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000.0
KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in kilometres between points given in degrees, vectorised."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres; same arguments as ``haversine_km``."""
    return haversine_km(lat1, lon1, lat2, lon2) * 1000.0
