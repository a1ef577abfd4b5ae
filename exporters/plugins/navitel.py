"""Navitel ``SpeedCam.txt`` (identifier ``navitel``): the iGO layout with an index column.

Layout (docs/formats/navitel.md, from the Prestigio RoadRunner manual)::

    IDX,X,Y,TYPE,SPEED,DirType,Direction
    0,2.352222,48.856613,1,50,1,270

- ASCII, CRLF, one header line, a CRLF after the last row; X = longitude, Y = latitude with
  6 decimals (the manual's example has 16; Navitel reads ordinary decimals).
- IDX = the line number from 0, as the manual says: 0, 1, 2, ... in file order, no gap, no
  repeat (a section's end row has its own number). Rows are in camera-id order, so a camera
  is traced back by its position, not by IDX.
- SPEED = km/h, ``0`` = unknown; the truck limit is not carried.
- DirType = ``DirectionMode`` (0 all, 1 one, 2 both); the manual calls 0 "bidirectional".
- Direction = ``(heading + 180) mod 360``, integer 0-359; ``0`` when DirType is 0. Navitel's
  direction points *at the approaching driver*, 180° from iGO's travel heading. Source: the
  speedtrap-alert.com database help pages only (**unconfirmed**, single source); our iGO/Navitel
  reader (cameras/formats/igo.py) applies the same rule, so our own files round-trip. Rounding
  as for iGO: the heading is rounded half up to whole degrees first (heading 359.9 -> iGO 0 ->
  Navitel 180).

TYPE codes: Navitel's own (the manual lists 1, 4 and 5; a Navitel file filter script's
table adds 2, 3 and the dangers 101-106, see docs/formats/navitel.md):

==============================================  ====  =====================================
CameraType                                      TYPE  Navitel meaning
==============================================  ====  =====================================
SPEED, TUNNEL, VARIABLE_LIMIT                   1     static camera
RED_LIGHT_SPEED                                 2     built into a traffic light (red light
                                                      and speed)
RED_LIGHT                                       3     red-light camera
LEVEL_CROSSING                                  3     red-light camera: a level-crossing
                                                      camera catches crossing on red
SECTION_START, SECTION_END, SECTION (2 rows)    4     section (average speed)
SECTION without an end point                    1     static camera at its start, counted in
                                                      a note (a lone 4 would open a section)
MOBILE_ZONE, MOBILE_CAMERA, POLICE_CHECK        5     mobile camera (ambush)
ROUTE_ENFORCEMENT                               5     mobile camera: a radar car along a route
                                                      (France's "Itinéraire")
DANGER_ZONE                                     106   other danger (never announced as a
                                                      camera, fixed or mobile kind)
DISTANCE, BUS_LANE, OTHER                       1     static camera (no code of their own),
                                                      counted in a note
any other type with kind MOBILE                 5     mobile camera
==============================================  ====  =====================================

101 (speed limit), 102 (speed bump), 103 (bad road), 104 (dangerous bend) and 105 (dangerous
junction) have no camera type of ours and are never written. Zones given as a stretch are
written as one point at their start; sections with an end point as two type-4 rows (start,
end), which Navitel, like iGO, pairs as consecutive section points.
"""

from __future__ import annotations

import numpy as np
from ..i18n import gettext_noop

from exporters.base import CameraSet, register
from exporters.i18n import gettext, number
from exporters.schema import CameraType, DirectionMode, Kind
from exporters.points import PointExporter, Points, code_lookup

T = CameraType

NAVITEL_TYPES = {
    T.SPEED: 1, T.RED_LIGHT: 3, T.RED_LIGHT_SPEED: 2, T.SECTION_START: 4, T.SECTION_END: 4,
    T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 106, T.LEVEL_CROSSING: 3,
    T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 5, T.DISTANCE: 1, T.BUS_LANE: 1, T.OTHER: 1,
    T.ROUTE_ENFORCEMENT: 5,
}
NAVITEL_MOBILE = 5
NAVITEL_DANGER = 106  # "other danger": a danger zone stays a danger whatever its kind
GENERIC_TYPES = [int(T.DISTANCE), int(T.BUS_LANE), int(T.OTHER)]  # cameras Navitel has no code for
NAVITEL_HEADER = b"IDX,X,Y,TYPE,SPEED,DirType,Direction"

_navitel_codes = code_lookup(NAVITEL_TYPES, "Navitel")


def navitel_types(cams: CameraSet) -> np.ndarray:
    """Navitel TYPE per camera: ``NAVITEL_TYPES``; a mobile camera 5, except a danger zone (106)."""
    codes = _navitel_codes(cams)
    mobile = (cams["kind"] == Kind.MOBILE) & (codes != NAVITEL_DANGER)
    return np.where(mobile, NAVITEL_MOBILE, codes)


navitel_types.known = _navitel_codes.known


@register
class NavitelExporter(PointExporter):
    identifier = "navitel"
    verbose_name = gettext_noop("Navitel SpeedCam.txt")
    label = "Navitel"
    file_name = "SpeedCam.txt"
    type_codes = staticmethod(navitel_types)

    with_id = True

    def header(self) -> bytes:
        return NAVITEL_HEADER

    def directions_of(self, pts: Points) -> np.ndarray:
        return np.where(pts.mode == DirectionMode.ALL, 0, (pts.deg + 180) % 360)

    def format_flags(self, pts: Points) -> dict[str, np.ndarray]:
        return {"generic": (pts.codes == 1) & np.isin(pts.cams["type"], GENERIC_TYPES)}

    def format_notes(self, counts: dict[str, int]) -> list[str]:
        if counts["generic"]:
            return [gettext("Navitel has no type for distance, bus-lane and other enforcement cameras: %(count)s of "
                            "them are announced as static cameras.") % {"count": number(counts["generic"])}]
        return []
