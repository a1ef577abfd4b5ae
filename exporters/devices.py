"""The device catalog: every supported device family or model, its format and capabilities.

Limits carry their source, or say that they are assumed. Nothing here was tested on
hardware by the project; sources are public reports listed with each limit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .base import PROXIMITY_ABOVE, PROXIMITY_STEPS, PROXIMITY_UNKNOWN, ExportError, get_exporter, load_plugins
from .i18n import gettext, gettext_noop, ngettext, number

# The catalog's texts for the customer (install steps, notes, coverage notes, the reasons a
# device was withdrawn, FORMAT_ALERTS) are English constants marked with ``gettext_noop``;
# ``Device`` translates them when they are read (``Translated``), in the active language.


def _unit_text(unit: str, value: int) -> str:
    """``value`` with its unit, the number in the active language's grouping."""
    n = number(value)
    if unit == "POIs":
        return ngettext("%(count)s POI", "%(count)s POIs", value) % {"count": n}
    if unit == "bytes":
        return ngettext("%(count)s byte", "%(count)s bytes", value) % {"count": n}
    if unit == "bytes per file":
        return ngettext("%(count)s byte per file", "%(count)s bytes per file", value) % {"count": n}
    if unit == "categories":
        return ngettext("%(count)s category", "%(count)s categories", value) % {"count": n}
    return f"{n} {unit}"


@dataclass(frozen=True)
class Limit:
    value: int
    source: str
    assumed: bool = False
    # above a hard limit the device ignores the whole file(s), not just the excess: a package
    # over it is refused (``package.hard_limit_error``), not sent with a warning
    hard: bool = False

    def describe(self, unit: str) -> str:
        """The limit in words, with its source ("25,000 POIs (none documented)"); ``unit``:
        "POIs", "bytes", "bytes per file" or "categories" (translated; another unit is shown as
        given), in the active language."""
        values = {"limit": _unit_text(unit, self.value), "source": gettext(self.source)}
        if self.assumed:
            return gettext("%(limit)s (assumed: %(source)s)") % values
        return gettext("%(limit)s (%(source)s)") % values


class Translated:
    """A ``Device`` field holding catalog text (a string or a tuple of strings, English,
    marked ``gettext_noop``): reading it gives the text in the active language. The English
    text stays available as ``device.english(name)``."""

    def __init__(self, default):
        self.default = default

    def __set_name__(self, owner, name):
        self.name = name
        self.slot = "_en_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self.default  # the dataclass field's default
        value = obj.__dict__.get(self.slot, self.default)
        if isinstance(value, tuple):
            return tuple(gettext(v) for v in value)
        return gettext(value)

    def __set__(self, obj, value):
        obj.__dict__[self.slot] = value


@dataclass(frozen=True)
class IconSpec:
    width: int
    height: int
    bits: int  # colour depth of the BMP/bitmap the device takes


@dataclass(frozen=True)
class Source:
    """A public document the catalog entry relies on, for the file ``format`` the device reads
    or for its ``limits`` (what it holds; where no figure is published, the document that
    was checked and what it says, the limit being then marked assumed)."""

    about: str      # "format" or "limits"
    title: str      # the document, named so that it can be found
    url: str = ""   # its address, where it has a stable one

    def __str__(self) -> str:
        return f"{self.title} ({self.url})" if self.url else self.title

    @property
    def text(self) -> str:
        """The title in the active language (the device page); the manifest keeps the English."""
        return gettext(self.title)


SOURCE_TOPICS = ("format", "limits")


@dataclass(frozen=True)
class Device:
    id: str
    brand: str
    model: str
    format: str                        # exporter identifier
    kind: str                          # "pnd", "head-unit", "app"
    mobile: bool = True                # can show mobile cameras (its own category)
    icons: IconSpec | None = None      # custom icons, if the device takes them
    icon_swap: bool = False            # the customer can swap icon sets (France danger signs)
    max_pois: Limit | None = None
    max_file_bytes: Limit | None = None
    max_categories: Limit | None = None
    coverage_setup: bool = True        # the customer may choose the coverage
    coverage_note: str = Translated("")  # why not, when coverage_setup is False
    # never Switzerland: warning of controls is an offence there (cameras.legal, a test)
    default_coverage: str = "europe-no-ch"
    install: tuple[str, ...] = Translated(())  # translated when read, as notes, coverage_note, withdrawn
    notes: tuple[str, ...] = Translated(())
    # Garmin GPI: why the device needs Windows-1252 text (names outside it transliterated);
    # empty: a file with names outside Windows-1252 is written in UTF-8 (code page 65001)
    transliterate: str = ""
    # why the device is no longer sold (empty: on sale); a withdrawn device stays in CATALOG
    # so that orders placed before still resolve, but not in DEVICES (shop, panel, fan-out)
    withdrawn: str = Translated("")
    # the public documents for its format and its limits (``Source``); validate_catalog wants
    # at least one of each
    sources: tuple[Source, ...] = ()

    @property
    def name(self) -> str:
        """Brand and model, the brand once ("Navitel Navigator", not "Navitel Navitel Navigator")."""
        if self.model.lower().startswith(self.brand.lower() + " "):
            return self.model
        return f"{self.brand} {self.model}"

    def __hash__(self) -> int:  # by id: the translated fields change with the active language
        return hash(self.id)

    def english(self, name: str):
        """The English (source) text of a translated field (``install``, ``notes``...)."""
        return self.__dict__.get("_en_" + name, getattr(type(self), name))

    def install_steps(self) -> tuple[str, ...]:
        """The installation steps in the active language (the same as ``install``)."""
        return self.install

    def notes_text(self) -> tuple[str, ...]:
        """The notes in the active language (the same as ``notes``)."""
        return self.notes

    @property
    def direction_alerts(self) -> str:
        """Whether and how the device warns by the direction of travel, from what its format
        does (a data file warns of nothing; an app that warns only about imported places
        switched on cannot be direction-aware without a heading in the file)."""
        if self.format in DATA_ONLY_FORMATS:
            return gettext("No alerts by itself: the file carries each camera's heading and direction for your own "
                           "software to use.")
        if self.format in OPT_IN_ALERT_FORMATS:
            return gettext("No alerts by default: apps warn about imported places only where you switch their own "
                           "place alerts on, and such alerts are not direction-aware (the file carries no heading).")
        if self.exporter().direction_aware:
            return gettext("Direction-aware alerts: the device warns only when you drive towards the camera.")
        return gettext("Alerts are not direction-aware on this device: it warns in both directions of travel.")

    def sources_about(self, about: str) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if s.about == about)

    @property
    def format_sources(self) -> tuple[Source, ...]:
        return self.sources_about("format")

    @property
    def limit_sources(self) -> tuple[Source, ...]:
        return self.sources_about("limits")

    @property
    def alerts(self) -> str:
        """What the device does with the cameras of its format (``FORMAT_ALERTS``), in the
        active language."""
        return format_alerts(self.format)

    def exporter(self):
        exporter = get_exporter(self.format)
        if self.transliterate:
            exporter.transliterate = True  # a fresh instance per call
        return exporter

    def as_dict(self) -> dict:
        data = asdict(self)
        exp = self.exporter()
        data.update(name=self.name, direction_aware=exp.direction_aware, speed_carried_as=exp.speed_carried_as,
                    format_name=exp.verbose_name)
        return data


TOMTOM_INSTALL = (  # NavCore models: files copied into the map folder
    gettext_noop("Unzip the package on your computer."),
    gettext_noop("Connect the TomTom to the computer with its USB cable and choose 'Yes' to connect."),
    gettext_noop("Open the device's drive and then the folder of your active map (for example 'Western_and_Central_Europe')."),
    gettext_noop("Copy every .ov2 file and the .bmp file of the same name from the package's 'tomtom' folder into the map folder."),
    gettext_noop("To change icons later (for example the French danger signs), copy the .bmp files of the same names from "
    "icons/speed or icons/fr-danger over the ones in the map folder."),
    gettext_noop("Eject the device. On the TomTom: Change preferences > Manage POIs > Warn when near POI, pick each camera "
    "category, and set the warning distance and sound."),
)
TOMTOM_MYDRIVE_INSTALL = (  # MyDrive-era models: POI lists imported on the web, synced by MyDrive Connect
    gettext_noop("Unzip the package on your computer. On these models POI lists come from your TomTom account through "
    "MyDrive, not from .ov2 files copied into a map folder."),
    gettext_noop("Install TomTom MyDrive Connect on the computer if you do not have it, and sign in with the TomTom account "
    "your device is linked to."),
    gettext_noop("In a web browser open TomTom's route planner (MyDrive, plan.tomtom.com), sign in with the same account, and "
    "import each .ov2 file from the package's 'tomtom' folder as a POI list."),
    gettext_noop("Connect the device to the computer with its USB cable while MyDrive Connect runs: it copies the POI lists "
    "onto the device."),
    gettext_noop("Import only the .ov2 files: the .bmp icons next to them are for the older models that read a map folder."),
)
GARMIN_GPI_INSTALL = (
    gettext_noop("Unzip the package on your computer."),
    gettext_noop("Connect the Garmin with its USB cable; it appears as a drive (on some models choose 'mass storage')."),
    gettext_noop("Copy the .gpi files from the package into the folder Garmin\\POI on the device (create it if missing). "
    "On models with a memory card you may use the card's Garmin\\POI folder instead."),
    gettext_noop("Eject the device. The cameras appear in Where To? > Categories > Custom POIs. Each camera carries its own "
    "alert (the distance is under 'What this file does'); if your model has a setting for custom POI or "
    "proximity point alerts, make sure it is on."),
    gettext_noop("Remove older camera .gpi files first: two files with the same cameras give double alerts."),
)
POI_LOADER_INSTALL = (
    gettext_noop("Install Garmin POI Loader (free, Windows or macOS) if you do not have it."),
    gettext_noop("Unzip the package into an empty folder; keep each .csv next to the .bmp of the same name."),
    gettext_noop("Connect the Garmin, start POI Loader, choose the device, then 'Install' and the folder."),
    gettext_noop("Choose 'Manual' mode, not 'Express': as units choose the ones named under 'What this file does' ('Metric' "
    "for km/h, 'Statute' for mph), because the speed after '@' in the names is in that unit; switch proximity "
    "alerts on and enter the distance given there. A CSV file has no field for the alert distance, so the cameras without a known limit (no '@' in "
    "their names) alert only at the distance you enter here."),
    gettext_noop("POI Loader builds a Poi.gpi on the device; each .csv file becomes one category with its icon."),
    gettext_noop("Models that take .gpi files directly (nüvi, DriveSmart, zūmo) can use the GPI package instead: there every "
    "camera alerts at a distance set by its limit, at any speed."),
)
IGO_INSTALL = (
    gettext_noop("Unzip the package on your computer."),
    gettext_noop("Connect the device or take out its memory card, and open the iGO folder (often 'iGO', 'iGO_Primo' or "
    "'NaviOne')."),
    gettext_noop("Copy speedcam.txt into the folder content/speedcam, replacing the old file."),
    gettext_noop("Delete the file speedcam.spdb in the same folder if present, so iGO rebuilds its cache from the new file."),
    gettext_noop("Start the navigation; in Settings > Warnings switch 'Speed camera warning' on."),
)
NAVITEL_INSTALL = (
    gettext_noop("Unzip the package on your computer."),
    gettext_noop("Connect the device (or the phone) and open the folder NavitelContent/SpeedCams (create it if missing)."),
    gettext_noop("Copy SpeedCam.txt into it, replacing the old file."),
    gettext_noop("Start Navitel: Menu > Settings > Speedcams > Import, and choose the file."),
)
SYGIC_INSTALL = (
    gettext_noop("Unzip the package on your computer."),
    gettext_noop("Connect the phone and open Android/data/com.sygic.aura/files/maps/speedcams (Sygic 15.6.5 or newer)."),
    gettext_noop("First copy Sygic's own offlinespeedcams.dat from that folder to your computer and keep it: our file "
    "replaces Sygic's camera list and its zones (no second camera file that Sygic would load next to its own "
    "is known). To go back, copy your saved file into the folder again."),
    gettext_noop("Copy the package's offlinespeedcams.dat into that folder, replacing the old file."),
    gettext_noop("Restart Sygic; under Settings > Speed cameras make sure warnings are on."),
)
MERCEDES_INSTALL = (  # gplv2/mercedespoi: DAIMLER_GPX_FORMAT.md "SD Card Structure", "Observed Behavior"
    gettext_noop("Unzip the package on your computer. Its folder 'PersonalPOI' holds one .gpx file per camera category, "
    "with plain ASCII file names, as COMAND needs."),
    gettext_noop("Copy the folder 'PersonalPOI' with its files to the root of an SD card, keeping the name 'PersonalPOI' "
    "exactly as it is. If the card already has a 'PersonalPOI' folder, put our speedcams_*.gpx files into it "
    "(replacing older ones of the same names) and count its other POIs in: see the last step."),
    gettext_noop("Not sure COMAND reads the card? Put an MP3 file on it first and play it through COMAND."),
    gettext_noop("Insert the card in COMAND's SD card slot and leave it there: COMAND reads the POIs from the card, it does "
    "not copy them. After changing the files, take the card out and insert it again, or restart the "
    "navigation."),
    gettext_noop("The cameras appear as personal POIs grouped by category (Speed cameras, Red-light cameras, ...), and "
    "COMAND warns before each one as described under 'What this file does'."),
    gettext_noop("Keep to 25,000 POIs on the whole card, ours and any others together: above that COMAND ignores every POI "
    "on the card, with no error message. For that reason coverages over the limit are not sold for COMAND."),
)
MIB2_WITHDRAWN = (
    gettext_noop("No longer sold. MIB2 head units do not import loose GPX files: they take a 'PersonalPOI' software-update "
    "package (metainfo2.txt, SQLite databases, SHA-1 checksums). The checksums are publicly described "
    "(jimmyH/mypois, poifix.py; github.com/jilleb/mib2-toolbox/issues/1), but the unit also checks a signature of the "
    "package's metainfo2.txt that only Volkswagen can make: the community tools ship a Volkswagen-signed file "
    "unchanged (raycoarana/poi-to-discover-media: 'Keep main metadata untouched, as we are not able to properly "
    "calculate it'), and MIB2 Standard units by TechniSat refuse such packages (github.com/jilleb/mib2-toolbox/issues/99). "
    "We do not sell a package that depends on reusing a vendor's signature."))
VW_INSTALL = (
    gettext_noop("This device is no longer sold (see 'What this file does'): the package holds GPX files, which MIB2 head "
    "units do not import. Please contact us about your order."),
)
APP_KMZ_INSTALL = (
    gettext_noop("Unzip the package and send speedcams.kmz to your phone or computer (email, cloud drive or USB). Keep the "
    ".kmz whole: the camera icons are inside it."),
    gettext_noop("Google Earth: File > Open (or Projects > Import KML file) and choose speedcams.kmz. Organic Maps: open the "
    "file from your file manager or the email; it is imported as a list of places. Google My Maps imports .kmz "
    "files too, within its own import limits."),
    gettext_noop("Apps do not warn about imported places by default: switch on proximity or 'favourite' alerts where your app "
    "offers them."),
)
APP_GPX_INSTALL = (
    gettext_noop("Unzip the package and send the .gpx files to your phone."),
    gettext_noop("In OsmAnd: My Places > Tracks > Import, or open the file from your file manager with OsmAnd."),
    gettext_noop("Show them on the map under Configure map > Tracks, and switch on 'Speed cameras' alerts for favourites "
    "where available."),
)
BLAUPUNKT_INSTALL = (
    gettext_noop("Unzip the package on your computer. Each POI list is a .kml file with the .bmp icon of the same name "
    "(22 x 22 pixels), named <country>_Speedcams_<category>, for example FR_Speedcams_Fixed50.kml."),
    gettext_noop("Keep the names as they are: the TravelPilot sorts POI lists by the country and the two categories in the "
    "file name, and finds a list's icon by the same name."),
    gettext_noop("Load the lists onto the TravelPilot with Blaupunkt's TPAssist program, or copy each .kml together with its "
    ".bmp into the device's memory or onto its memory card, as the POI-list chapter of your TravelPilot manual "
    "describes."),
    gettext_noop("On the device the cameras appear as POI lists by country and category."),
)
GENERIC_INSTALL = (
    gettext_noop("Unzip the package. The file documents its columns in the included INSTALL.txt; import it with your "
    "software's CSV or GeoJSON import."),
)

# Formats that are data for the customer's own software (no alerts at all), and formats whose
# apps warn only where the customer switches their place alerts on (``Device.direction_alerts``).
DATA_ONLY_FORMATS = frozenset({"csv", "geojson"})
OPT_IN_ALERT_FORMATS = frozenset({"kml", "kmz", "gpx"})

# What the device does with the cameras of each format (the device page's "Alerts" line;
# docs/formats/ has the details and the sources). English, marked for the catalog; the
# distances are placeholders, filled in the active language by ``format_alerts``.
SCALED_PROXIMITY = ", ".join(f"{m:,} m up to {limit} km/h" for limit, m in PROXIMITY_STEPS) + \
    f", {PROXIMITY_ABOVE:,} m above"


def scaled_proximity() -> str:
    """``SCALED_PROXIMITY`` in the active language ("300 m up to 50 km/h, ..., 1,000 m above")."""
    steps = [gettext("%(distance)s m up to %(limit)s km/h") % {"distance": number(m), "limit": limit}
             for limit, m in PROXIMITY_STEPS]
    return ", ".join(steps + [gettext("%(distance)s m above") % {"distance": number(PROXIMITY_ABOVE)}])


FORMAT_ALERTS = {
    "tomtom-ov2": gettext_noop(
        "The device warns near the POIs of each category file you switch on (Manage POIs > Warn when "
        "near POI), at the distance and with the sound you choose per file; one file per category and "
        "limit, so each limit can have its own distance."),
    "garmin-gpi": gettext_noop(
        "Every camera carries its own proximity alert, at a distance set by its limit (%(proximity)s; "
        "%(unknown)s m when unknown; or one distance you choose), sounding at any speed; the limit is shown in "
        "the name."),
    "garmin-poi-csv": gettext_noop(
        "POI Loader makes the limit after '@' in a name a speed alert, which sounds only above the "
        "limit; the proximity distance is one setting you enter in POI Loader (INSTALL.txt gives it), "
        "and the cameras without a known limit alert only at that distance."),
    "gpx": gettext_noop(
        "Every camera carries a proximity distance set by its limit (%(proximity)s; Garmin's "
        "proximity extension), for apps that read it; OsmAnd warns only where its own alerts for imported "
        "points are switched on."),
    "daimler-gpx": gettext_noop(
        "COMAND shows a warning with a tone before each camera, a lead time in seconds set by its limit "
        "(the time to cover the distance of the limit at that speed: %(proximity)s), so a "
        "faster car is warned earlier."),
    "igo": gettext_noop(
        "iGO's own speed-camera warning, by camera type, with the limit (SPEED, in km/h as the format defines) "
        "and the direction of travel."),
    "navitel": gettext_noop(
        "Navitel's own speed-camera warning, by camera type (Navitel's codes), with the limit (SPEED, in "
        "km/h as the format defines) and the direction of travel."),
    "sygic": gettext_noop(
        "Sygic's own speed-camera warning, by camera type, with the limit (in the file's unit) and the "
        "direction of travel."),
    "blaupunkt-kml": gettext_noop(
        "POI lists by country, category and limit, each with its icon; a list carries no heading and "
        "no alert distance, so warnings are the TravelPilot's POI-list settings."),
    "kmz": gettext_noop(
        "Points on the map, the limit in each name; map apps do not warn about imported places unless you switch "
        "their place or favourite alerts on."),
    "kml": gettext_noop(
        "Points on the map, the limit in each name; map apps do not warn about imported places unless you switch "
        "their place or favourite alerts on."),
    "csv": gettext_noop(
        "Data for your own software (every field: limit in km/h, heading, direction, section ends); no alerts by "
        "itself."),
    "geojson": gettext_noop(
        "Data for your own software (every field: limit in km/h, heading, direction, section ends); no "
        "alerts by itself."),
}


def format_alerts(fmt: str) -> str:
    """``FORMAT_ALERTS[fmt]`` in the active language, its distances filled in ("" for a format
    without one)."""
    text = FORMAT_ALERTS.get(fmt, "")
    if not text:
        return ""
    return gettext(text) % {"proximity": scaled_proximity(), "unknown": number(PROXIMITY_UNKNOWN)}


FR_NO_SWAP = (gettext_noop("On this device the speed-limit icon is part of the map display, so the France danger icon set "
              "cannot be chosen; French cameras can still be exported as danger zones."))

# Sources, per format and per limit (docs/formats/ says what the code takes from each).
GPSBABEL = "https://github.com/GPSBabel/gpsbabel"
OV2_FORMAT = (
    Source("format", gettext_noop("TomTom Navigator SDK 3.0 manual, pages 'OV2 file structure' and 'External POI files'")),
    Source("format", gettext_noop("GPSBabel 1.8.0 source, tomtom.cc, and its format page xmldoc/formats/tomtom.xml"), GPSBABEL),
    Source("format", gettext_noop("Gord Thompson's ov2optimizer, pages 'ov2FileFormat' and 'howIndexingHelps'"),
           "https://gordthompson.github.io/ov2optimizer/"),
)
OV2_LIMITS = (
    Source("limits", gettext_noop("TomTom publishes no POI or file-size limit for OV2 files; poi-factory.com users report that "
                     "large files without skipper records slow weaker units"), "https://www.poi-factory.com"),
    Source("limits", gettext_noop("ov2optimizer, 'howIndexingHelps': TomTom's own files keep at most 20 POIs per skipper block"),
           "https://gordthompson.github.io/ov2optimizer/"),
)
MYDRIVE_FORMAT = (
    Source("format", gettext_noop("'ov2 tomtom adventures', a public write-up on a TomTom Start 52 (nickwasused.github.io, "
                     "2024-03-01): 2013 and later models import OV2 POI lists through MyDrive and MyDrive Connect")),
)
GPI_FORMAT = (
    Source("format", gettext_noop("GPSBabel 1.8.0 source, garmin_gpi.cc and garmin_gpi.h, and its format page "
                     "xmldoc/formats/garmin_gpi.xml with the option pages (writecodec, proximity)"), GPSBABEL),
    Source("format", gettext_noop("GPSBabel pull request 154: code page 65001, UTF-8 GPI files with Cyrillic names"),
           "https://github.com/GPSBabel/gpsbabel/pull/154"),
    Source("format", gettext_noop("KMZRebuilder, GPIReader.cs (an independent reader of the same records)"),
           "https://github.com/dkxce/KMZRebuilder"),
)
GARMIN_LIMITS = (
    Source("limits", gettext_noop("Garmin's custom POI documentation: 'at least 3,000' custom POIs; users report over 30,000 "
                     "working (freegeographytools.com, 2008)")),
    Source("limits", gettext_noop("GPSBabel garmin_gpi.cc: the alert distance in whole metres, 16 bits (at most 32,767 m)"),
           GPSBABEL),
)
POI_LOADER_FORMAT = (
    Source("format", gettext_noop("Garmin POI Loader help: file names as categories, the '@speed' convention, units chosen in "
                     "the loader")),
    Source("format", gettext_noop("GPSBabel style/garmin_poi.style (the xcsv definition) and its format documentation"), GPSBABEL),
    Source("format", gettext_noop("POI Factory, 'Garmin CSV file format'"), "https://www.poi-factory.com"),
    Source("format", gettext_noop("OWASP, 'CSV Injection'"), "https://owasp.org/www-community/attacks/CSV_Injection"),
)
POI_LOADER_LIMITS = GARMIN_LIMITS[:1] + (
    Source("limits", gettext_noop("1e1/Open-GATSO-POI, a user report: POI Loader refuses a malformed file outright"),
           "https://github.com/1e1/Open-GATSO-POI/issues/128"),
)
IGO_FORMAT = (
    Source("format", gettext_noop("The iGO Primo thread on digital-eliteboard.com that defines the speedcam.txt columns")),
    Source("format", gettext_noop("GPSBabel style/igo2008_poi.style and style/igoprimo_poi.style"), GPSBABEL),
    Source("format", gettext_noop("iGO 8, iGO Primo and NextGen operation manuals (camera warnings, sections)")),
)
IGO_LIMITS = (
    Source("limits", gettext_noop("iGO 8, iGO Primo and NextGen operation manuals, camera-warning chapters: no limit on the "
                     "number of cameras is stated, so the catalog's limit is assumed")),
)
NAVITEL_FORMAT = (
    Source("format", gettext_noop("Prestigio RoadRunner 545 GPS user manual (Navitel edition), 'File format description' "
                     "(manuzoid.com copy)")),
    Source("format", gettext_noop("A public Perl filter script for Navitel SpeedCam.txt files (its Russian header lists the "
                     "TYPE codes 1-5 and 101-106)")),
    Source("format", gettext_noop("speedtrap-alert.com Android database help: Navitel's direction against iGO's")),
)
NAVITEL_LIMITS = (
    Source("limits", gettext_noop("Prestigio RoadRunner 545 GPS user manual (Navitel edition): no limit on the number of "
                     "cameras is stated, so the catalog's limit is assumed")),
)
SYGIC_FORMAT = (
    Source("format", gettext_noop("miszellek/SygicOfflineSpeedcams: README (Sygic 15.6.5 and later) and converter "
                     "(commit 92316ec: Info, PairId, SpeedLimitUnits)"),
           "https://github.com/miszellek/SygicOfflineSpeedcams"),
    Source("format", gettext_noop("nodefive/maparadar2sygic (commit 182cf36, 2026): Info Version 2, SpeedLimitUnits 1 for mph"),
           "https://github.com/nodefive/maparadar2sygic"),
    Source("format", gettext_noop("josephpaturi/sygic-uk-safety-cameras-poi, README (type mapping, folder)"),
           "https://github.com/josephpaturi/sygic-uk-safety-cameras-poi"),
)
SYGIC_LIMITS = (
    Source("limits", gettext_noop("miszellek/SygicOfflineSpeedcams, README: Sygic reads one offline camera database for the "
                     "whole world (offlinespeedcams.dat) and shows the cameras near the car; no size limit is "
                     "stated"), "https://github.com/miszellek/SygicOfflineSpeedcams"),
)
COMAND_FORMAT = (
    Source("format", gettext_noop("gplv2/mercedespoi, DAIMLER_GPX_FORMAT.md ('File Structure', 'Extension Elements', 'POI Icon "
                     "Table', 'SD Card Structure') and mercedespoi.py"), "https://github.com/gplv2/mercedespoi"),
    Source("format", gettext_noop("GPX 1.1 schema"), "http://www.topografix.com/GPX/1/1/gpx.xsd"),
)
COMAND_LIMITS = (
    Source("limits", gettext_noop("gplv2/mercedespoi, DAIMLER_GPX_FORMAT.md 'POI Limits' and STATS.md: 25,000-30,000 POIs on "
                     "the card, above which every POI is ignored"), "https://github.com/gplv2/mercedespoi"),
)
BLAUPUNKT_FORMAT = (
    Source("format", gettext_noop("Blaupunkt TravelPilot 500 operating instructions, 'Exkurs: POI-Listen' (list names "
                     "<country>_<category1>_<category2>, icons of the same name)")),
    Source("format", gettext_noop("OGC KML 2.2 schema, ogckml22.xsd"), "http://schemas.opengis.net/kml/2.2.0/ogckml22.xsd"),
    Source("format", gettext_noop("Microsoft, BITMAPINFOHEADER structure (the 22 x 22 8-bit BMP icons)")),
)
BLAUPUNKT_LIMITS = (
    Source("limits", gettext_noop("Blaupunkt TravelPilot 500 operating instructions, 'Exkurs: POI-Listen': no number of POIs "
                     "is stated, so the catalog's limit is assumed")),
)
KMZ_FORMAT = (
    Source("format", gettext_noop("OGC KML 2.2 schema, ogckml22.xsd (element order)"),
           "http://schemas.opengis.net/kml/2.2.0/ogckml22.xsd"),
    Source("format", gettext_noop("Google KML documentation, 'KMZ Files'"),
           "https://developers.google.com/kml/documentation/kmzarchives"),
    Source("format", gettext_noop("PKWARE, APPNOTE.TXT (the ZIP format)")),
)
KMZ_LIMITS = (
    Source("limits", gettext_noop("Google, 'KML support in Google Maps': Google Maps loads at most 1,000 features, 3 MB KMZ, "
                     "10 MB KML; Google Earth and Organic Maps publish no limit"),
           "http://code.google.com/apis/kml/documentation/mapsSupport.html"),
)
GPX_FORMAT = (
    Source("format", gettext_noop("GPX 1.1 schema"), "http://www.topografix.com/GPX/1/1/gpx.xsd"),
    Source("format", gettext_noop("Garmin GpxExtensions v3 schema (WaypointExtension Proximity)"),
           "https://www8.garmin.com/xmlschemas/GpxExtensionsv3.xsd"),
    Source("format", gettext_noop("GPSBabel's GPX reader and writer"), GPSBABEL),
)
OSMAND_LIMITS = (
    Source("limits", gettext_noop("An OsmAnd user report: a GPX file of 40,477 waypoints made OsmAnd very slow; no limit "
                     "is published"), "https://github.com/osmandapp/OsmAnd/issues/3910"),
)
CSV_FORMAT = (
    Source("format", gettext_noop("The project's CSV feed format, docs/feed-csv.md")),
    Source("format", gettext_noop("OWASP, 'CSV Injection'"), "https://owasp.org/www-community/attacks/CSV_Injection"),
)
GEOJSON_FORMAT = (
    Source("format", gettext_noop("RFC 7946, The GeoJSON Format"), "https://www.rfc-editor.org/rfc/rfc7946"),
    Source("format", gettext_noop("The project's GeoJSON feed format, docs/feed-geojson.md")),
)
FEED_LIMITS = (
    Source("limits", gettext_noop("The project's feed formats, docs/feed-csv.md and docs/feed-geojson.md: no POI limit; what "
                     "a program can import is that program's limit")),
)
MIB2_SOURCES = (
    Source("format", gettext_noop("jimmyH/mypois, poifix.py (the PersonalPOI package and its SHA-1 checksums)"),
           "https://github.com/jimmyH/mypois"),
    Source("format", gettext_noop("jilleb/mib2-toolbox, a user report: MIB2 Standard units refuse packages without Volkswagen's "
                     "signature"), "https://github.com/jilleb/mib2-toolbox/issues/99"),
    Source("limits", gettext_noop("jimmyH/mypois, a user report (and the PPOI speed-camera wiki page): at most 10 POI "
                     "categories can be selected"), "https://github.com/jimmyH/mypois/issues/15"),
)

DEVICES: tuple[Device, ...] = (
    Device("tomtom-go-classic", "TomTom", "GO classic (x20/x30/x40/x50, NavCore)", "tomtom-ov2", "pnd",
           icons=IconSpec(22, 22, 4), icon_swap=True, install=TOMTOM_INSTALL,
           max_file_bytes=Limit(20_000_000, gettext_noop("no documented limit; unindexed large files slow weaker units "
                                "(poi-factory.com); skipper records keep big files fast"), assumed=True),
           sources=OV2_FORMAT + OV2_LIMITS),
    Device("tomtom-one-xl", "TomTom", "ONE / XL / XXL", "tomtom-ov2", "pnd",
           icons=IconSpec(22, 22, 4), icon_swap=True, install=TOMTOM_INSTALL,
           max_file_bytes=Limit(10_000_000, gettext_noop("older ONE/XL units have little memory; none documented"), assumed=True),
           sources=OV2_FORMAT + OV2_LIMITS),
    Device("tomtom-start-via", "TomTom", "Start / Via (NavCore, before 2013)", "tomtom-ov2", "pnd",
           icons=IconSpec(22, 22, 4), icon_swap=True, install=TOMTOM_INSTALL,
           max_file_bytes=Limit(10_000_000, gettext_noop("none documented"), assumed=True),
           sources=OV2_FORMAT + OV2_LIMITS),
    Device("tomtom-mydrive", "TomTom", "Start / Via / GO (2013 and later, MyDrive Connect)", "tomtom-ov2", "pnd",
           install=TOMTOM_MYDRIVE_INSTALL,
           notes=(gettext_noop("These TomTom models import .ov2 POI lists through MyDrive (plan.tomtom.com) and MyDrive Connect, "
                  "not by copying files into a map folder (a TomTom Start 52 owner's report, 2024). Whether MyDrive "
                  "keeps custom icons is not documented, so the France danger icon set is not offered."),),
           max_file_bytes=Limit(10_000_000, gettext_noop("none documented"), assumed=True),
           sources=OV2_FORMAT + MYDRIVE_FORMAT + OV2_LIMITS),
    Device("garmin-nuvi", "Garmin", "nüvi (2x5, 2xx7, 2xx8 series)", "garmin-gpi", "pnd",
           icons=IconSpec(24, 24, 8), icon_swap=True, install=GARMIN_GPI_INSTALL,
           transliterate="assumed: the nüvi 2x5 to 2xx8 firmware predates UTF-8 GPI files (GPSBabel reads code page "
                         "65001 since 2017, PR 154); no report of these units reading them, so they get Windows-1252",
           max_pois=Limit(50_000, gettext_noop("Garmin documents 'at least 3,000' custom POIs; users report over 30,000 "
                          "working (freegeographytools.com, 2008)"), assumed=True),
           sources=GPI_FORMAT + GARMIN_LIMITS),
    Device("garmin-drivesmart", "Garmin", "DriveSmart 5x / 6x / 7x", "garmin-gpi", "pnd",
           icons=IconSpec(24, 24, 8), icon_swap=True, install=GARMIN_GPI_INSTALL,
           max_pois=Limit(100_000, gettext_noop("none documented; current units have gigabytes of storage"), assumed=True),
           sources=GPI_FORMAT + GARMIN_LIMITS),
    Device("garmin-zumo", "Garmin", "zūmo (motorcycle) 3x0 / 5x0 / XT", "garmin-gpi", "pnd",
           icons=IconSpec(24, 24, 8), icon_swap=True, install=GARMIN_GPI_INSTALL,
           max_pois=Limit(50_000, gettext_noop("none documented"), assumed=True),
           sources=GPI_FORMAT + GARMIN_LIMITS),
    Device("garmin-poi-loader", "Garmin", "any model, with POI Loader", "garmin-poi-csv", "pnd",
           icons=IconSpec(24, 24, 8), icon_swap=True, install=POI_LOADER_INSTALL,
           max_pois=Limit(50_000, gettext_noop("Garmin documents 'at least 3,000'; users load over 30,000"), assumed=True),
           sources=POI_LOADER_FORMAT + POI_LOADER_LIMITS),
    Device("igo-primo", "iGO", "Primo (PNDs and Windows CE units)", "igo", "pnd", install=IGO_INSTALL,
           notes=(FR_NO_SWAP,), max_pois=Limit(150_000, gettext_noop("none documented"), assumed=True),
           sources=IGO_FORMAT + IGO_LIMITS),
    Device("igo-nextgen", "iGO", "NextGen (Android and head units)", "igo", "head-unit", install=IGO_INSTALL,
           notes=(FR_NO_SWAP,), max_pois=Limit(250_000, gettext_noop("none documented"), assumed=True),
           sources=IGO_FORMAT + IGO_LIMITS),
    Device("dynavin-n7", "Dynavin", "N7 series head unit (iGO based)", "igo", "head-unit", install=IGO_INSTALL,
           notes=(FR_NO_SWAP,), max_pois=Limit(150_000, gettext_noop("none documented"), assumed=True),
           sources=IGO_FORMAT + IGO_LIMITS),
    Device("navitel", "Navitel", "Navitel Navigator (app and PNDs)", "navitel", "app", install=NAVITEL_INSTALL,
           notes=(FR_NO_SWAP,), max_pois=Limit(200_000, gettext_noop("none documented"), assumed=True),
           sources=NAVITEL_FORMAT + NAVITEL_LIMITS),
    Device("prestigio-geovision", "Prestigio", "GeoVision (Navitel)", "navitel", "pnd", install=NAVITEL_INSTALL,
           notes=(FR_NO_SWAP,), max_pois=Limit(100_000, gettext_noop("none documented"), assumed=True),
           sources=NAVITEL_FORMAT + NAVITEL_LIMITS),
    Device("sygic-android", "Sygic", "GPS Navigation for Android (15.6.5+)", "sygic", "app", install=SYGIC_INSTALL,
           coverage_setup=False, default_coverage="world-no-ch",
           coverage_note=gettext_noop("Sygic loads one offline camera database for the whole world and shows only the cameras "
                         "near you, so there is nothing to trim: you always get the full database, less "
                         "Switzerland, where warning of speed cameras is an offence."),
           notes=(FR_NO_SWAP,),
           sources=SYGIC_FORMAT + SYGIC_LIMITS),
    Device("mercedes-comand", "Mercedes-Benz", "COMAND Online (NTG4.5 / NTG5, SD card)", "daimler-gpx", "head-unit",
           mobile=False, install=MERCEDES_INSTALL, default_coverage="central-europe-no-ch",
           max_pois=Limit(25_000, gettext_noop("25,000-30,000 POIs on the card, the low end taken; above it every POI is "
                          "ignored, with no error (gplv2/mercedespoi, DAIMLER_GPX_FORMAT.md 'POI Limits', STATS.md)"),
                          hard=True),
           notes=(FR_NO_SWAP,
                  gettext_noop("Format: GPX 1.1 with Daimler's extensions (gpx: and gpxd: prefixes, WptExtension, POICategory, "
                  "Activity), as the community reference describes it (gplv2/mercedespoi, DAIMLER_GPX_FORMAT.md); "
                  "Daimler's own XSD files are no longer online."),
                  gettext_noop("The default coverage, Central Europe, stays well under COMAND's 25,000 POIs (all of Europe "
                  "has more); a coverage over the limit is refused, with the countries to leave out.")),
           sources=COMAND_FORMAT + COMAND_LIMITS),
    Device("blaupunkt-travelpilot", "Blaupunkt", "TravelPilot (TPAssist)", "blaupunkt-kml", "pnd",
           icons=IconSpec(22, 22, 8), icon_swap=True, install=BLAUPUNKT_INSTALL,
           max_pois=Limit(30_000, gettext_noop("none documented"), assumed=True),
           sources=BLAUPUNKT_FORMAT + BLAUPUNKT_LIMITS),
    Device("phone-kml", "Phone apps", "Google Earth / Organic Maps (KMZ)", "kmz", "app", install=APP_KMZ_INSTALL,
           sources=KMZ_FORMAT + KMZ_LIMITS),
    Device("osmand-gpx", "Phone apps", "OsmAnd (GPX)", "gpx", "app", install=APP_GPX_INSTALL,
           sources=GPX_FORMAT + OSMAND_LIMITS),
    Device("generic-csv", "Generic", "CSV file", "csv", "app", install=GENERIC_INSTALL,
           sources=CSV_FORMAT + FEED_LIMITS),
    Device("generic-geojson", "Generic", "GeoJSON file", "geojson", "app", install=GENERIC_INSTALL,
           sources=GEOJSON_FORMAT + FEED_LIMITS),
)

# Devices no longer sold: resolvable by id (orders placed before), never offered.
WITHDRAWN: tuple[Device, ...] = (
    Device("vw-mib", "Volkswagen / Škoda / SEAT", "MIB2 personal POI", "gpx", "head-unit", mobile=False,
           install=VW_INSTALL, withdrawn=MIB2_WITHDRAWN, notes=(MIB2_WITHDRAWN,),
           sources=MIB2_SOURCES),
)

CATALOG: dict[str, Device] = {}
for _d in DEVICES + WITHDRAWN:
    if _d.id in CATALOG:
        raise ValueError(f"duplicate device id {_d.id!r}")
    CATALOG[_d.id] = _d


def get_device(device_id: str) -> Device:
    try:
        return CATALOG[device_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(device_id, CATALOG, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ExportError(f"unknown device {device_id!r}.{hint} Valid devices: {', '.join(sorted(CATALOG))}") from None


def validate_catalog() -> list[str]:
    """Problems in the catalog (unknown formats, ...); empty when all is well."""
    plugins = load_plugins()
    problems = []
    for d in DEVICES:
        if d.format not in plugins:
            problems.append(f"{d.id}: unknown format {d.format!r}")
        if not d.install:
            problems.append(f"{d.id}: no installation instructions")
        if not d.coverage_setup and not d.coverage_note:
            problems.append(f"{d.id}: coverage setup refused without a reason")
        if d.transliterate and d.format in plugins and not hasattr(plugins[d.format](), "transliterate"):
            problems.append(f"{d.id}: format {d.format!r} has no transliteration option")
        if d.withdrawn:
            problems.append(f"{d.id}: withdrawn, yet listed for sale")
        if d.format not in FORMAT_ALERTS:
            problems.append(f"{d.id}: format {d.format!r} has no alert description (FORMAT_ALERTS)")
    for d in WITHDRAWN:
        if not d.withdrawn or d.format not in plugins or not d.install:
            problems.append(f"{d.id}: a withdrawn device needs its reason, a registered format and instructions")
    for d in DEVICES + WITHDRAWN:
        problems += source_problems(d)
    return problems


def source_problems(device: Device) -> list[str]:
    """What is missing from a device's sources: at least one public document for its format
    and one for its limits, each named (a title) and about one of ``SOURCE_TOPICS``."""
    problems = [f"{device.id}: a source about {s.about!r} (valid: {', '.join(SOURCE_TOPICS)})"
                for s in device.sources if s.about not in SOURCE_TOPICS]
    problems += [f"{device.id}: a source without a title" for s in device.sources if not s.title.strip()]
    problems += [f"{device.id}: a source URL that is not http(s): {s.url!r}" for s in device.sources
                 if s.url and not s.url.startswith(("http://", "https://"))]
    for about in SOURCE_TOPICS:
        if not device.sources_about(about):
            problems.append(f"{device.id}: no source for its {about}")
    return problems
