"""Camera sets for exporter tests: a small fixed set covering every case, and a scaled one."""

import numpy as np

from exporters.base import CameraSet
from exporters.schema import CameraType, DirectionMode, Kind

T = CameraType
D = DirectionMode

# Every type, fixed and mobile, headings in every mode, sections with end points, speeds
# from 30 to 130, truck limits, negative coordinates, names that need escaping.
SAMPLE_ROWS = [
    dict(id=1, type=T.SPEED, lat=48.856613, lon=2.352222, speed=50, heading=90.0, dir_mode=D.ONE, country="FR", road="Rue de Rivoli", description="Paris centre"),
    dict(id=2, type=T.SPEED, lat=52.520008, lon=13.404954, speed=50, heading=270.0, dir_mode=D.BOTH, country="DE", road="Unter den Linden", description="Blitzer Berlin Mitte"),
    dict(id=3, type=T.RED_LIGHT, lat=48.137154, lon=11.576124, country="DE", road="", description="München Ampel"),
    dict(id=4, type=T.RED_LIGHT_SPEED, lat=45.764043, lon=4.835659, speed=70, heading=12.5, dir_mode=D.ONE, country="FR", road="A7", description='Lyon "Perrache" & <tunnel>'),
    dict(id=5, type=T.SECTION_START, lat=50.850346, lon=4.351721, speed=70, heading=45.0, dir_mode=D.ONE, country="BE", road="R0", description="Trajectcontrole start"),
    dict(id=6, type=T.SECTION_END, lat=50.870346, lon=4.381721, speed=70, heading=45.0, dir_mode=D.ONE, country="BE", road="R0", description="Trajectcontrole end"),
    dict(id=7, type=T.SECTION, lat=41.902782, lon=12.496366, speed=130, truck_speed=80, heading=180.0, dir_mode=D.ONE, country="IT", road="A1", description="Tutor", end_lat=41.852782, end_lon=12.496366),
    dict(id=8, type=T.MOBILE_ZONE, kind=Kind.MOBILE, lat=40.416775, lon=-3.703790, country="ES", road="M-30", description="Zona de control", reports=7, end_lat=40.426775, end_lon=-3.713790),
    dict(id=9, type=T.TUNNEL, lat=45.923697, lon=6.869433, speed=70, country="FR", road="Tunnel du Mont-Blanc", description="Tunnel"),
    dict(id=10, type=T.VARIABLE_LIMIT, lat=51.507351, lon=-0.127758, speed=80, heading=0.0, dir_mode=D.ONE, country="GB", road="M25", description="Smart motorway, gantry 4/5"),
    dict(id=11, type=T.DANGER_ZONE, lat=43.296482, lon=5.369780, country="FR", road="A55", description="Zone de danger"),
    dict(id=12, type=T.LEVEL_CROSSING, lat=47.218371, lon=-1.553621, country="FR", road="D723", description="Passage à niveau"),
    dict(id=13, type=T.MOBILE_CAMERA, kind=Kind.MOBILE, lat=52.229676, lon=21.012229, speed=50, country="PL", road="", description="Fotoradar mobilny"),
    dict(id=14, type=T.POLICE_CHECK, kind=Kind.MOBILE, lat=59.329323, lon=18.068581, country="SE", description="Poliskontroll"),
    dict(id=15, type=T.DISTANCE, lat=47.376887, lon=8.541694, speed=120, heading=300.0, dir_mode=D.ONE, country="CH", road="A1", description="Abstand"),
    dict(id=16, type=T.BUS_LANE, lat=53.349805, lon=-6.260310, country="IE", road="O'Connell St", description="Bus lane, camera"),
    dict(id=17, type=T.OTHER, lat=60.169856, lon=24.938379, country="FI", description="Other"),
    dict(id=18, type=T.SPEED, lat=-33.868820, lon=151.209296, speed=60, heading=135.0, dir_mode=D.ONE, country="AU", road="George St", description="neg coords"),
    dict(id=19, type=T.SPEED, lat=40.712776, lon=-74.005974, speed=48, country="US", road="Broadway", description="30 mph zone"),
    dict(id=20, type=T.SPEED, lat=38.722252, lon=-9.139337, speed=130, heading=359.9, dir_mode=D.ONE, country="PT", road="A2", description="Ponte 25 de Abril"),
    dict(id=21, type=T.SPEED, lat=45.464204, lon=9.189982, speed=30, heading=0.1, dir_mode=D.BOTH, country="IT", road="Via Dante", description="Zona 30 — centro"),
    dict(id=22, type=T.SPEED, lat=48.208174, lon=16.373819, speed=100, country="AT", road="A23", description="Südosttangente"),
    dict(id=23, type=T.SPEED, lat=55.676098, lon=12.568337, speed=90, heading=225.0, dir_mode=D.ONE, country="DK", road="E20", description="Fartkamera"),
    dict(id=24, type=T.SPEED, lat=48.8600, lon=2.3400, speed=110, heading=180.0, dir_mode=D.ONE, country="FR", road="Périphérique extérieur très long nom de route qui dépasse", description="Long name test"),
]


def sample_cameras() -> CameraSet:
    return CameraSet.from_records(SAMPLE_ROWS)


def scaled_cameras(n: int, seed: int = 7) -> CameraSet:
    """n cameras spread over Europe and the world with the sample's mix of types and modes."""
    rng = np.random.default_rng(seed)
    types = np.array([int(t) for t in CameraType])
    cols = {
        "id": np.arange(1, n + 1, dtype=np.int64),
        "type": rng.choice(types, n).astype(np.int16),
        "lat": np.round(rng.uniform(-45, 70, n), 6),
        "lon": np.round(rng.uniform(-120, 150, n), 6),
        "speed": rng.choice(np.array([0, 30, 50, 70, 80, 90, 110, 130], dtype=np.int16), n),
        "truck_speed": np.zeros(n, dtype=np.int16),
        "dir_mode": rng.choice(np.array([0, 1, 2], dtype=np.int8), n),
        "country": rng.choice(np.array(["FR", "DE", "IT", "ES", "GB", "US"], dtype=object), n),
        "road": rng.choice(np.array(["A1", "N7", "M25", "", "Route de Paris"], dtype=object), n),
        "description": rng.choice(np.array(["", "Radar", "Blitzer & Co", "Ampel <Nord>"], dtype=object), n),
        "reports": np.zeros(n, dtype=np.int32),
    }
    cols["kind"] = np.where(np.isin(cols["type"], [6, 12, 13]), Kind.MOBILE, Kind.FIXED).astype(np.int8)
    cols["heading"] = np.where(cols["dir_mode"] == 0, np.nan, np.round(rng.uniform(0, 360, n), 1)).astype(np.float32)
    section = cols["type"] == CameraType.SECTION
    cols["end_lat"] = np.where(section, cols["lat"] + 0.01, np.nan)
    cols["end_lon"] = np.where(section, cols["lon"] + 0.01, np.nan)
    return CameraSet(cols)
