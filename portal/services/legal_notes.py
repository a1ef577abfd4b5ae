"""The per-country legal notes (``cameras.legal``) in the shop: which coverage choices carry
which notes (the device page shows them as the coverage changes), and the acknowledgement
checkout requires when the coverage includes such a country.

The notes are English in ``cameras.legal`` (marked with ``gettext_noop``): ``localized`` gives
them in the active language (the rule, the text and the country's name) for the pages."""

from __future__ import annotations

import dataclasses
import datetime

from django.utils.translation import gettext, gettext_lazy

from cameras import legal
from portal.services import l10n, naming

ACK_LABEL = gettext_lazy("I have read the law on speed-camera warnings in the countries above and will follow it.")
ACK_MESSAGE = gettext_lazy("Please confirm you have read the law for %(names)s: warning of speed cameras is prohibited or "
                           "restricted there (tick the box above the Pay button).")


def localized(note: legal.LegalNote) -> legal.LegalNote:
    """``note`` with its name, rule, text, source and date in the active language (the law's own name as it is)."""
    return dataclasses.replace(note, name=naming.country_name(note.country), rule=gettext(note.rule),
                               text=gettext(note.text), source=gettext(note.source), checked=l10n.date(
                                   datetime.date.fromisoformat(note.checked)))


def all_notes() -> list[legal.LegalNote]:
    """Every note, in the active language."""
    return [localized(n) for n in legal.NOTES.values()]


def countries_by_choice(codes) -> dict[str, list[str]]:
    """coverage choice -> the countries of its notes (only the choices that have some)."""
    out = {}
    for code in codes:
        try:
            countries = [note.country for note in legal.notes_for_coverage([code])]
        except ValueError:
            continue
        if countries:
            out[code] = countries
    return out


def page_context(codes, chosen: str) -> dict:
    """What the device page's notes need: every note any choice may show, which choice shows
    which, and the ones of the choice shown first."""
    by_choice = countries_by_choice(codes)
    wanted = {c for countries in by_choice.values() for c in countries}
    return {"legal_notes": [localized(n) for n in legal.NOTES.values() if n.country in wanted],
            "legal_by_coverage": by_choice, "legal_shown": by_choice.get(chosen, [])}


def required(coverage_code: str) -> list[legal.LegalNote]:
    """The notes a purchase of this coverage must acknowledge ([] when none, or an unknown code:
    the form refuses that separately)."""
    try:
        return [localized(n) for n in legal.notes_for_coverage([coverage_code])]
    except ValueError:
        return []


def ack_error(notes: list[legal.LegalNote]) -> str:
    return ACK_MESSAGE % {"names": ", ".join(naming.country_name(n.country) for n in notes)}
