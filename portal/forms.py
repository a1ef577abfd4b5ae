"""The purchase form: email and the options the device offers (nothing else is accepted);
the checkout's billing country (``BillingForm``)."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _, gettext_lazy

from cameras import regions
from cameras.coverage import Coverage, CoverageError
from cameras.exporting import sizer
from cameras.lru import LRU
from cameras.models import Release
from exporters.base import ICON_SET_CHOICES as EXPORT_ICON_SETS, ExportError, ExportOptions
from exporters.devices import Device
from exporters.package import hard_limit_error
from portal.models import FR_ZONE_MODE_CHOICES, FR_ZONE_MODE_HELP, SPEED_UNIT_CHOICES
from portal.services.catalog import PRESET_REGIONS, mobile_offered
from portal.services import geo, naming
from portal.services import legal_notes


# --------------------------------------------------------------------------- the billing country
#
# The customer's country for EU VAT (``services.vat``): a select of every country by name,
# defaulting to the country of the buyer's IP address (``services.geo``), else
# ``DEFAULT_BILLING_COUNTRY``. A value not in the list is refused (400, with what to do); a
# request without the field (a client that is not the checkout page) gets that same default,
# as the page would have posted it. The order keeps it with the IP country as evidence.

def billing_country_choices() -> tuple[tuple[str, str], ...]:
    """Every country, named and sorted in the active language."""
    return _billing_country_choices(translation.get_language() or "en")


@functools.lru_cache(maxsize=16)
def _billing_country_choices(language: str) -> tuple[tuple[str, str], ...]:
    names = naming.country_names()
    return tuple(sorted(names.items(), key=lambda item: strxfrm_key(item[1])))


def strxfrm_key(name: str) -> str:
    """Sort key for names with accents ("Åland" with the As, "Émirats" with the Es)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


VAT_NOTE = gettext_lazy("Prices include VAT at the rate of your country in the EU (the price stays the same, your "
                        "invoice shows the VAT); outside the EU no VAT is charged.")

# The choices of the purchase form, as the customer reads them: the models' (lazy, translated
# when shown), and the icon sets of exporters.base, marked there and translated here.
ICON_SET_CHOICES = tuple((value, gettext_lazy(label)) for value, label in EXPORT_ICON_SETS)


class BillingForm(forms.Form):
    billing_country = forms.ChoiceField(
        label=gettext_lazy("Billing country (where you live)"), choices=billing_country_choices, required=False,
        # the longest names ("South Georgia and the South Sandwich Islands") are wider than a phone
        widget=forms.Select(attrs={"style": "max-width:100%"}),
        error_messages={"invalid_choice": gettext_lazy("%(value)s is not a country in the list: choose your "
                                                       "billing country in the list.")})

    def __init__(self, request, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ip_country = geo.request_country(request)
        known = dict(billing_country_choices())
        self.default = self.ip_country if self.ip_country in known else settings.DEFAULT_BILLING_COUNTRY
        self.fields["billing_country"].initial = self.default

    def clean_billing_country(self) -> str:
        return self.cleaned_data.get("billing_country") or self.default


@dataclass(frozen=True)
class CoverageChoice:
    code: str       # a region slug or a country code
    name: str
    cameras: int    # in the release


@dataclass(frozen=True)
class CoverageChoices:
    regions: tuple[CoverageChoice, ...]     # PRESET_REGIONS, in that order
    countries: tuple[CoverageChoice, ...]   # the countries with cameras in the release, by name


def coverage_choices(release: Release | None) -> CoverageChoices:
    """The coverages offered, in the shop's form and on the panel's coverage page: the preset
    regions and the countries with cameras in the release, each with its number of cameras.
    Computed once per release and language (the country names are the language's)."""
    language = translation.get_language() or "en"
    key = (release.pk, release.sha256, language) if release is not None else (None, language)
    return _CHOICES.get(key, lambda: _coverage_choices(release))


_CHOICES: LRU[CoverageChoices] = LRU(8)


def _coverage_choices(release: Release | None) -> CoverageChoices:
    names = naming.country_names()
    counts = release.counts.get("country", {}) if release is not None else {}
    presets = tuple(CoverageChoice(slug, naming.code_name(slug),
                                   sum(counts.get(c, 0) for c in regions.REGIONS[slug].countries))
                    for slug in PRESET_REGIONS if slug in regions.REGIONS)
    countries = tuple(CoverageChoice(code, names.get(code, code), n)
                      for code, n in sorted(counts.items(), key=lambda kv: names.get(kv[0], kv[0])))
    return CoverageChoices(presets, countries)


def form_coverage_choices(device: Device, release: Release | None) -> list[tuple[str, str]]:
    """The shop form's coverage choices: the device's default first, the other preset regions,
    then each country alone."""
    offered = coverage_choices(release)
    default = device.default_coverage
    first = ((default, _("%(region)s (default)") % {"region": naming.code_name(default)}) if default in regions.REGIONS
             else (default, default))
    return ([first] + [(r.code, str(r.name)) for r in offered.regions if r.code != default]
            + [(c.code, _("%(country)s only") % {"country": c.name}) for c in offered.countries])


class PurchaseForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address (your login)"), max_length=254)

    def __init__(self, device: Device, release: Release | None, *args, require_email: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.device, self.release = device, release
        self.fields["email"].required = require_email
        # checkout (the email's form) requires the legal notes' acknowledgement (legal_notes.required)
        self.require_legal_ack = require_email
        self.fields["legal_ack"] = forms.BooleanField(required=False, label=_(str(legal_notes.ACK_LABEL)))
        if mobile_offered(device, release):
            self.fields["mobile"] = forms.BooleanField(label=_("Mobile cameras and zones"), required=False)
        if device.icon_swap:
            self.fields["icons"] = forms.ChoiceField(
                label=_("Icons for cameras in France"), initial="speed", required=False,
                choices=ICON_SET_CHOICES)
        if device.coverage_setup:
            self.fields["coverage"] = forms.ChoiceField(label=_("Coverage"), choices=form_coverage_choices(device, release),
                                                        initial=device.default_coverage, required=False)
        self.fields["speed_unit"] = forms.ChoiceField(
            label=_("Speed unit"), choices=SPEED_UNIT_CHOICES, initial="auto", required=False,
            help_text=_("The unit of the limits in camera names, file names and speed signs."))
        # shown by the page whenever the chosen coverage includes France (``france_codes``)
        self.fields["fr_zone_mode"] = forms.ChoiceField(
            label=_("Cameras in France"), choices=FR_ZONE_MODE_CHOICES, initial="legal", required=False,
            help_text=FR_ZONE_MODE_HELP)

    def france_codes(self) -> list[str]:
        """The coverage choices that include France (the page shows the France choice for them)."""
        codes = [c for c, _ in self.fields["coverage"].choices] if "coverage" in self.fields else \
            [self.device.default_coverage]
        return [c for c in codes if includes_france(c)]

    def clean(self):
        data = super().clean()
        offered = {"mobile": "mobile" in self.fields, "icons": "icons" in self.fields,
                   "coverage": "coverage" in self.fields}
        device = {"device": self.device.name}
        why = {"mobile": _("%(device)s cannot show mobile cameras") % device if not self.device.mobile
               else _("this release has no mobile cameras"),
               "icons": _("%(device)s cannot swap icon sets") % device,
               "coverage": _("%(device)s takes the default coverage only: %(note)s") % {
                   **device, "note": self.device.coverage_note}}
        for name, ok in offered.items():
            if not ok and self.data.get(name) not in (None, "", "0", "off", "false", "speed",
                                                      self.device.default_coverage):
                self.add_error(None, _("option %(option)s is not offered for this device: %(why)s") % {
                    "option": repr(name), "why": why[name]})
        if not self.errors:
            self._check_hard_limit(data)
        notes = legal_notes.required(data.get("coverage") or self.device.default_coverage)
        if self.require_legal_ack and notes and not data.get("legal_ack"):
            self.add_error("legal_ack", legal_notes.ack_error(notes))
        return data

    def _check_hard_limit(self, data) -> None:
        """A coverage over a hard POI limit (the device would ignore every POI) is refused, with
        the countries to leave out (``hard_limit_refusal``)."""
        try:
            coverage = Coverage.parse([data.get("coverage") or self.device.default_coverage])
        except CoverageError:
            return  # ``spec`` reports it
        options = ExportOptions(mobile=bool(data.get("mobile")), icons=data.get("icons") or "speed",
                                speed_unit=data.get("speed_unit") or "auto",
                                fr_danger_zones=(data.get("fr_zone_mode") or "legal") == "legal")
        refused = hard_limit_refusal(self.device, self.release, coverage, options)
        if refused:
            self.add_error("coverage" if "coverage" in self.fields else None, refused)

    def spec(self) -> dict:
        """The order's options (validated)."""
        data = self.cleaned_data
        coverage = data.get("coverage") or self.device.default_coverage
        try:
            Coverage.parse([coverage])
        except CoverageError as exc:
            raise forms.ValidationError(str(exc))
        return {"mobile": bool(data.get("mobile")), "icons": data.get("icons") or "speed", "coverage": [coverage],
                "speed_unit": data.get("speed_unit") or "auto", "fr_zone_mode": data.get("fr_zone_mode") or "legal",
                "france": includes_france(coverage),
                # the countries whose note was acknowledged (checkout refuses a purchase without it)
                "legal_ack": [n.country for n in legal_notes.required(coverage)] if data.get("legal_ack") else []}


def hard_limit_refusal(device: Device, release: Release | None, coverage: Coverage,
                       options: ExportOptions) -> str | None:
    """Why ``coverage`` is refused for ``device``: its POIs (sized with ``options`` on
    ``release``) are over the device's hard limit, above which the device ignores every POI
    (``exporters.package.hard_limit_error``, the message names the countries to leave out);
    None when it fits, the device has no hard limit, or it cannot be sized here (the package
    build refuses it all the same). The shop's form and the panel's coverage page both ask."""
    limit = device.max_pois
    if limit is None or not limit.hard or release is None:
        return None
    try:
        size = sizer(release, device, options).size(coverage)
    except (CoverageError, ExportError, ValueError, LookupError, OSError, NotImplementedError):
        return None
    return hard_limit_error(device, size.pois, size.by_country)


def includes_france(code: str) -> bool:
    """Whether a coverage code (a country or a region) includes France."""
    try:
        return "FR" in Coverage.parse([code]).countries
    except CoverageError:
        return False
