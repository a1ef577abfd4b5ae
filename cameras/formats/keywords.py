"""Camera types said in words, in several languages; shared by the readers, not a reader.

``keyword_type`` reads a type column's value (``whole``) or a name or description: red
light, feu rouge, Rotlicht, semaforo, roodlicht, na czerwonym świetle; average speed,
section, tronçon, Abschnitt, tutor, trajectcontrole, odcinkowy pomiar; mobile; tunnel (only
as the camera's own word, not in a street name such as "... to Tunnel Ave"); school zone;
bus lane; level crossing; police check; route enforcement (itinéraire). Number-plate readers and surveillance cameras
(ALPR, ANPR, CCTV, traffic_camera) are OTHER: they enforce no speed. POI names also use
short labels: ``stop`` (red light, Garmin lists), ``average`` (a section point),
``Tunnel@80`` (a name that starts with the word). Camel case (``redLight``,
``averageSpeed``) is read as words.
"""

from __future__ import annotations

import re
import unicodedata

from exporters.schema import CameraType


# Letters Unicode does not decompose into a base letter and an accent ('światło' -> 'swiatlo').
_UNDECOMPOSED = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case without accents: the form the keyword patterns match."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
                   if not unicodedata.combining(ch))


_KEYWORDS = [
    # France's "Itinéraire" radars: a radar car checking speeds along listed roads
    (re.compile(r"\bitinerair\w*|\broute[\s_-]*enforcement\b"), CameraType.ROUTE_ENFORCEMENT),
    (re.compile(r"\bbus\s*(?:lane|only|gate)\b|\bbus(?:spur|fahrstreifen|baan)\b|\bvoie\s+(?:de\s+)?bus\b"
                r"|\bcouloir\s+(?:de\s+)?bus\b|\bcarril\s+bus\b|\bcorsia\s+preferenziale\b"), CameraType.BUS_LANE),
    (re.compile(r"\blevel\s*crossing\b|\bpassage\s+a\s+niveau\b|\bbahnubergang\b|\bpaso\s+a\s+nivel\b"
                r"|\bpassaggio\s+a\s+livello\b|\boverweg\b|\brail(?:road|way)?\s+crossing\b"), CameraType.LEVEL_CROSSING),
    (re.compile(r"\bmobil(?:e|er|es|en)?\b|\bmobiele?\b|\bmovil(?:es)?\b|\bmovel\b|\bmobiln\w*"),
     CameraType.MOBILE_CAMERA),
    (re.compile(r"\baverage\b|\bavg\b|\bsection\b|\btroncon\b|\babschnitt\w*|\bstreckenradar\b"
                r"|\btutor\b|\btrajectcontrole\b|\bpoint[\s-]*to[\s-]*point\b|\bmoyenne\b|\bvitesse\s+moyenne\b"
                r"|\bvelocidad\s+media\b|\bvelocita\s+media\b|\bspecs\b|\btramo\b|\bgemiddelde\s+snelheid\b"
                r"|\bodcinkow\w*"),
     CameraType.SECTION_START),
    (re.compile(r"\bred[\s_-]*light\w*|\bfeux?\s+rouges?\b|\bfeux?\s+tricolores?\b|\brotlicht\w*|\bampel\w*"
                r"|\bsemaforo\w*|\brood\s*licht\w*|\bsemafor\b|\bt-?red\b|(?<!\bbus\s)\bstop\b(?!\s*sign)"
                r"|\bczerwon\w*\s+swi\w*|\bswiatl\w*\s+czerwon\w*"), CameraType.RED_LIGHT),
    (re.compile(r"\bschool\b|\bschule\b|\becole\b|\bescuela\b|\bscuola\b|\bschool\s*zone\b"), CameraType.SPEED),
    (re.compile(r"\bpolice\b(?!\s*(?:station|office|headquarters|hq|department|dept)\b)|\bpolizeikontrolle\b"
                r"|\bcheck\s*point\b|\bcontrol\s+policial\b|\bposto\s+di\s+blocco\b|\bpolitiecontrole\b"),
     CameraType.POLICE_CHECK),
]
_TUNNEL = re.compile(r"\b(?:tunnel|tunel|galleria)\b(?!\s+(?:ave|avenue|st|street|rd|road|blvd|boulevard|dr|drive"
                     r"|ln|lane|way|pl|place|ct|court|pkwy|parkway|hwy|highway|strasse|str|weg|allee))")
_LOCATION_BEFORE = re.compile(r"\b(?:to|from|near|at|by|via|nach|von|vers|de|a)\s+$")
# "radar" is not one: French lists call a red-light camera "radar feu rouge"
_SPEED_WORD = re.compile(r"\b(?:speed|vitesse|geschwindigkeit|velocidad|snelheid|velocita|velocidade|predkosc\w*"
                         r"|fotoradar\w*)\b")
# Cameras that read number plates or watch traffic: no speed or red-light enforcement.
_SURVEILLANCE = re.compile(r"\b(?:alpr|anpr|lpr|cctv|webcam\w*|surveillance|videosurveillance|kennzeichen\w*)\b"
                           r"|\b(?:number|licen[cs]e)[\s_-]*plate\w*|\bplate[\s_-]*reader\w*"
                           r"|\btraffic[\s_-]*(?:cam|camera|cameras|cctv)\b|\bvideo[\s_-]*surveillance\b")
_SECTION_END = re.compile(r"\b(?:end|fin|ende|einde|fine)\b")
_CAMERA_WORD = re.compile(r"\b(?:camera|cam|radar|blitzer|flitser|flitspaal|gatso|enforcement|kamera|camara"
                          r"|telecamera|autovelox|speed|trap|fotoradar|fix|fijo|fisso|stationar|stacjonarn)\w*")
_LABEL = re.compile(r"\s*(?:tunnel|tunel|galleria)\b")  # a name led by the word: "Tunnel@80", "Tunnel A7"
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_PARTS = re.compile(r"\s+[-–—|:]\s+|[,;(/]")


def _tunnel_in(text: str, whole: bool) -> bool:
    """``tunnel`` as the camera's word: the whole text (a type column) or the name's camera part."""
    parts = [text] if whole else [p for p in _PARTS.split(text) if _CAMERA_WORD.search(p) or _LABEL.match(p)]
    for part in parts:
        for m in _TUNNEL.finditer(part):
            if not _LOCATION_BEFORE.search(part[: m.start()]):
                return True
    return False


def keyword_type(text: str, whole: bool) -> CameraType | None:
    """The camera type the words of ``text`` say, or None. ``whole``: a type column's value."""
    folded = fold(_CAMEL.sub(" ", text))
    for pattern, type_ in _KEYWORDS:
        if pattern.search(folded):
            if type_ == CameraType.SECTION_START and _SECTION_END.search(folded):
                return CameraType.SECTION_END
            if type_ == CameraType.RED_LIGHT and _SPEED_WORD.search(folded):
                return CameraType.RED_LIGHT_SPEED
            return type_
    if _SURVEILLANCE.search(folded) and not _SPEED_WORD.search(folded):
        return CameraType.OTHER
    if _tunnel_in(folded, whole):
        return CameraType.TUNNEL
    if whole and _CAMERA_WORD.search(folded):
        return CameraType.SPEED
    return None
