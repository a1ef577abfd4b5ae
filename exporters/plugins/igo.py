"""iGO ``speedcam.txt`` (identifier ``igo``).

Layout (docs/formats/igo-speedcam-txt.md; community documented, no NNG specification)::

    X,Y,TYPE,SPEED,DIRTYPE,DIRECTION
    2.352222,48.856613,1,50,1,90

- ASCII, ``,`` separated, one header line, CRLF line endings (the common practice; whether
  iGO accepts LF only is unconfirmed), a CRLF after the last row too.
- X = longitude, Y = latitude, WGS84 degrees with 6 decimals (0.1 m), ``.`` as decimal point.
- SPEED = km/h, ``0`` = unknown. The truck limit is not carried (one SPEED per row).
- DIRTYPE = ``DirectionMode`` (0 all directions, 1 one direction, 2 both directions).
- DIRECTION = heading of the checked traffic, clockwise from north, integer 0-359: our
  heading rounded half up, modulo 360 (359.9 -> 0, 12.5 -> 13); ``0`` when DIRTYPE is 0.
  A camera with DIRTYPE 1/2 but no heading is written as DIRTYPE 0 (it warns in every
  direction rather than in none) and counted in a note.

TYPE mapping (iGO core codes 1-7 are documented consistently; 8 is a community extension):

=====================  ====  ===================================================
CameraType             TYPE  why
=====================  ====  ===================================================
SPEED                  1     fixed speed camera
RED_LIGHT              3     red-light camera
RED_LIGHT_SPEED        2     combined red light + speed ("built-in")
SECTION_START          4     section camera point
SECTION_END            4     section camera point (iGO pairs consecutive type-4s)
SECTION with end       4 ×2  two rows on consecutive lines: start point, then end point
                             (same speed/direction)
SECTION without end    1     fixed camera at its start (5 when mobile), counted in a note:
                             a lone type 4 keeps iGO's section warning on until the next
                             type-4 camera (iGO manuals)
MOBILE_ZONE            5     mobile; a zone's end point is not carried (no zone length)
TUNNEL                 1     fixed speed camera (iGO has no tunnel code)
VARIABLE_LIMIT         1     fixed speed camera
DANGER_ZONE            8     "accident-prone / dangerous road": extended code,
                             **unconfirmed** which iGO versions warn on it; a zone's end
                             point is not carried
LEVEL_CROSSING         6     railway crossing
MOBILE_CAMERA          5     mobile camera
POLICE_CHECK           5     iGO files police checks under mobile
DISTANCE               1     fixed camera (no distance code)
BUS_LANE               1     fixed camera: code 7 is "bus-lane" in one list but "not constant
                             mobile" in another (and our iGO reader reads 7 as a mobile zone)
OTHER                  1     fixed camera
ROUTE_ENFORCEMENT      5     mobile: a radar car checking speeds along a route (France's
                             "Itinéraire"); warned as a mobile camera at the route's point
any type, kind MOBILE  5     iGO has one mobile code
=====================  ====  ===================================================

Rows are in camera-id order (a section's end row right after its start row). The text is
built with ``exporters.textrows`` (numbers by table look-up, rows joined a chunk at a time):
200,000 cameras take about 0.1 s.

``points``, ``speedcam_writer`` and the checks are shared with the Navitel and Sygic plugins.
"""

from __future__ import annotations

import numpy as np
from ..i18n import gettext_noop

from exporters.base import register
from exporters.i18n import gettext
from exporters.points import PointExporter, Points, code_lookup
from exporters.schema import CameraType

T = CameraType

IGO_TYPES = {
    T.SPEED: 1, T.RED_LIGHT: 3, T.RED_LIGHT_SPEED: 2, T.SECTION_START: 4, T.SECTION_END: 4,
    T.MOBILE_ZONE: 5, T.TUNNEL: 1, T.VARIABLE_LIMIT: 1, T.DANGER_ZONE: 8, T.LEVEL_CROSSING: 6,
    T.SECTION: 4, T.MOBILE_CAMERA: 5, T.POLICE_CHECK: 5, T.DISTANCE: 1, T.BUS_LANE: 1, T.OTHER: 1,
    T.ROUTE_ENFORCEMENT: 5,
}
IGO_MOBILE = 5
IGO_HEADER = b"X,Y,TYPE,SPEED,DIRTYPE,DIRECTION"



igo_types = code_lookup(IGO_TYPES, "iGO", IGO_MOBILE)


@register
class IgoExporter(PointExporter):
    identifier = "igo"
    verbose_name = gettext_noop("iGO speedcam.txt (iGO 8 / Primo / NextGen)")
    label = "iGO"
    file_name = "speedcam.txt"
    type_codes = staticmethod(igo_types)

    def header(self) -> bytes:
        return IGO_HEADER

    def format_flags(self, pts: Points) -> dict[str, np.ndarray]:
        return {"type8": pts.codes == 8}

    def format_notes(self, counts: dict[str, int]) -> list[str]:
        if counts["type8"]:
            return [gettext("Danger zones use iGO TYPE 8 (a community extension); older iGO versions may not warn "
                            "on it.")]
        return []
