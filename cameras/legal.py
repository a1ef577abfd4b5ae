"""Countries where warnings of speed-camera locations are illegal or restricted.

Plain Python, no Django: the shop shows these notes before purchase (the device page, the
required acknowledgement at checkout) and every package's INSTALL.txt repeats them (the
exporters get the table as data: ``exporters.package.install_guide``).

Each entry says what the law forbids, cites it, and names the public page it was checked
against with the date of that check. Only countries we can back with a reference are
listed (France: docs/france.md has the sources). Checked and NOT listed, because the sources say camera positions on a navigation
device are allowed or disagree:

* Austria: the ÖAMTC's lawyer says apps and navigation devices that show camera positions
  are legal; only devices that detect or jam radar/laser are forbidden (KFG § 98a)
  (help.orf.at/stories/3216960, checked 2026-12-06).
* Belgium: allowed (trends.levif.be, "Waze, Coyote : attention aux amendes", checked
  2026-12-06).
* Slovakia, Cyprus, Ireland: named as prohibiting camera warnings by second-hand lists
  (trends.levif.be; rechtsanwaeltin-braun.at; the IAM's 2008 survey as reported by
  honestjohn.co.uk), while a Slovak source says warning apps may be used in Slovakia with all
  their functions (interez.sk, April 2023). No statute found: not listed until one is.

The rules and texts are English, marked with ``gettext_noop``: they are translated where
shown (``portal.services.legal_notes.localized`` on pages, ``LegalNote.line`` in INSTALL.txt,
in the language active there).

Radar detectors and jammers (devices that receive or disturb the police's radar or laser)
are a different matter, forbidden almost everywhere in Europe; this shop sells no such thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from cameras import regions
from exporters.i18n import country_name, date_text, gettext, gettext_noop


@dataclass(frozen=True)
class LegalNote:
    country: str      # ISO 3166-1 alpha-2
    name: str         # the country's English name
    rule: str         # "danger zones only", "prohibited while driving", "prohibited"
    text: str         # what a driver must know, one paragraph
    law: str          # the provision
    source: str       # the public page the text was checked against
    checked: str      # the date of that check (ISO)

    @property
    def line(self) -> str:
        """One line for INSTALL.txt, in the active language (the country's name stays as given)."""
        return gettext("%(name)s (%(rule)s): %(text)s [%(law)s; source: %(source)s, checked %(checked)s]") % {
            "name": country_name(self.country, self.name), "rule": gettext(self.rule), "text": gettext(self.text),
            "law": self.law, "source": gettext(self.source), "checked": date_text(self.checked)}


NOTES: dict[str, LegalNote] = {note.country: note for note in (
    LegalNote(
        "FR", "France", gettext_noop("danger zones only"),
        gettext_noop("Signalling where speed cameras are is forbidden to every driver in France. Only danger zones are "
        "allowed: 300 m in built-up areas, 2 km on other roads, 4 km on motorways, with no exact position "
        "and no speed. Keep the legal danger-zone mode (the default) for French cameras."),
        "Code de la route art. R413-15; décret n° 2012-3 du 3 janvier 2012",
        gettext_noop("docs/france.md (the decree as summarised by schreckenberg-parniere.fr and "
                     "lagazettedescommunes.com; the zone lengths from radars-auto.com)"), "2026-12-06"),
    LegalNote(
        "DE", "Germany", gettext_noop("prohibited while driving"),
        gettext_noop("A driver may neither use nor carry ready for use a device meant to show traffic enforcement such as "
        "speed cameras; this covers navigation devices and phone apps with camera alerts. Switch the camera "
        "alerts off (or remove the file) before driving in Germany. Fine: 75 EUR and one point."),
        "StVO § 23 Abs. 1c",
        "https://haufe.de/recht/deutsches-anwalt-office-premium/r-1-radarwarngeraete-rdn-2916_idesk_PI17574_HI16266919.html",
        "2026-12-06"),
    LegalNote(
        "CH", "Switzerland", gettext_noop("prohibited"),
        gettext_noop("Carrying in a vehicle or using any device or service that warns of traffic controls, speed cameras "
        "included, is punished with a fine; the police seize the device. Remove the file from your device "
        "before entering Switzerland. Switzerland is therefore in no default coverage: only if you choose it."),
        "Strassenverkehrsgesetz (SVG) Art. 98a",
        "https://lawbrary.ch/law/art/SVG-v2019.01-de-art-98a", "2026-12-06"),
)}


def notes_for(countries: Iterable[str]) -> list[LegalNote]:
    """The notes for these ISO codes, in the order of ``NOTES``."""
    wanted = {c.upper() for c in countries}
    return [note for code, note in NOTES.items() if code in wanted]


def install_notes() -> dict[str, str]:
    """The whole table as plain data for the exporters: country -> one line of INSTALL.txt."""
    return {code: note.line for code, note in NOTES.items()}


def notes_for_coverage(codes: Iterable[str] | str) -> list[LegalNote]:
    """The notes for a coverage given as region slugs and/or country codes (unknown codes
    raise ValueError, as ``regions.expand`` does)."""
    return notes_for(regions.expand(codes))
