"""The contract between the camera database and the exporters.

A release snapshot is a columnar table with exactly the columns of ``SNAPSHOT_COLUMNS``.
The code tables below are the camera database's vocabulary; exporters map them to each
device's own codes. Plain Python, no Django.
"""

from enum import IntEnum

from .i18n import gettext, gettext_noop


class CameraType(IntEnum):
    """Documented camera type codes (stable: stored in the database and in snapshots)."""

    SPEED = 1               # fixed speed camera
    RED_LIGHT = 2           # red-light camera
    RED_LIGHT_SPEED = 3     # combined red-light and speed camera
    SECTION_START = 4       # average-speed section, start point
    SECTION_END = 5         # average-speed section, end point
    MOBILE_ZONE = 6         # area or road stretch where mobile checks happen
    TUNNEL = 7              # camera in a tunnel
    VARIABLE_LIMIT = 8      # speed camera on a variable-limit stretch
    DANGER_ZONE = 9         # danger zone (France) or accident black spot
    LEVEL_CROSSING = 10     # railway level-crossing camera
    SECTION = 11            # average-speed section given as one object (start + end point)
    MOBILE_CAMERA = 12      # a single reported mobile camera position
    POLICE_CHECK = 13       # police check point
    DISTANCE = 14           # following-distance camera
    BUS_LANE = 15           # bus-lane camera
    ROUTE_ENFORCEMENT = 16  # speed checks along a listed route by a moving radar car (France: "Itinéraire")
    OTHER = 99              # enforcement of another kind

    @property
    def slug(self):
        return self.name.lower().replace("_", "-")

    @property
    def label(self):
        """The English label: data (names in files, interchange) never change with the language."""
        return TYPE_LABELS[self]

    @property
    def display_label(self):
        """The label for pages and INSTALL.txt, in the active language."""
        return gettext(TYPE_LABELS[self])

    @classmethod
    def parse(cls, value):
        """Accept a code (``3``), a name (``RED_LIGHT_SPEED``) or a slug (``red-light-speed``)."""
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        if text.lstrip("-").isdigit():
            return cls(int(text))
        key = text.upper().replace("-", "_").replace(" ", "_")
        try:
            return cls[key]
        except KeyError:
            valid = ", ".join(t.slug for t in cls)
            raise ValueError(f"unknown camera type {value!r}; valid: {valid}") from None


TYPE_LABELS = {
    CameraType.SPEED: gettext_noop("Speed camera"),
    CameraType.RED_LIGHT: gettext_noop("Red-light camera"),
    CameraType.RED_LIGHT_SPEED: gettext_noop("Red-light and speed camera"),
    CameraType.SECTION_START: gettext_noop("Average-speed section start"),
    CameraType.SECTION_END: gettext_noop("Average-speed section end"),
    CameraType.MOBILE_ZONE: gettext_noop("Mobile camera zone"),
    CameraType.TUNNEL: gettext_noop("Tunnel camera"),
    CameraType.VARIABLE_LIMIT: gettext_noop("Variable-limit camera"),
    CameraType.DANGER_ZONE: gettext_noop("Danger zone"),
    CameraType.LEVEL_CROSSING: gettext_noop("Level-crossing camera"),
    CameraType.SECTION: gettext_noop("Average-speed section"),
    CameraType.MOBILE_CAMERA: gettext_noop("Mobile camera"),
    CameraType.POLICE_CHECK: gettext_noop("Police check point"),
    CameraType.DISTANCE: gettext_noop("Distance camera"),
    CameraType.BUS_LANE: gettext_noop("Bus-lane camera"),
    CameraType.ROUTE_ENFORCEMENT: gettext_noop("Route enforcement (radar car)"),
    CameraType.OTHER: gettext_noop("Other enforcement"),
}

# Types that are mobile by nature; everything else defaults to fixed.
MOBILE_TYPES = frozenset({CameraType.MOBILE_ZONE, CameraType.MOBILE_CAMERA, CameraType.POLICE_CHECK})


class Kind(IntEnum):
    FIXED = 0
    MOBILE = 1

    @classmethod
    def parse(cls, value):
        text = str(value).strip().lower()
        if text in {"0", "fixed", "f"}:
            return cls.FIXED
        if text in {"1", "mobile", "m"}:
            return cls.MOBILE
        raise ValueError(f"unknown kind {value!r}; valid: fixed, mobile")


class DirectionMode(IntEnum):
    """How the heading applies (same values as iGO's DIRTYPE)."""

    ALL = 0   # all directions, heading ignored
    ONE = 1   # traffic travelling at the heading
    BOTH = 2  # traffic at the heading and at heading + 180

    @classmethod
    def parse(cls, value):
        text = str(value).strip().lower()
        names = {"0": cls.ALL, "all": cls.ALL, "1": cls.ONE, "one": cls.ONE, "2": cls.BOTH, "both": cls.BOTH}
        try:
            return names[text]
        except KeyError:
            raise ValueError(f"unknown direction mode {value!r}; valid: all, one, both") from None


# Column name -> numpy dtype string. Nullable numbers use NaN (floats) or -1 / 0 (ints) as
# documented per column.
SNAPSHOT_COLUMNS = {
    "id": "int64",            # stable camera id
    "kind": "int8",           # Kind
    "type": "int16",          # CameraType
    "lat": "float64",         # WGS84 degrees
    "lon": "float64",
    "speed": "int16",         # km/h, 0 = unknown
    "truck_speed": "int16",   # km/h, 0 = unknown
    "heading": "float32",     # degrees clockwise from north of the enforced traffic, NaN = none
    "dir_mode": "int8",       # DirectionMode
    "country": "str",         # ISO 3166-1 alpha-2
    "road": "str",
    "description": "str",
    "reports": "int32",       # mobile: number of reports, else 0
    "end_lat": "float64",     # sections and zones given as a stretch: end point, NaN otherwise
    "end_lon": "float64",
}
