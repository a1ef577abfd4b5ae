"""The purchase form: email and the options the device offers (nothing else is accepted)."""

from __future__ import annotations

from django import forms

from cameras import regions
from cameras.coverage import Coverage, CoverageError
from cameras.models import Release
from exporters.base import ICON_SET_CHOICES
from exporters.devices import Device

PRESET_REGIONS = ("europe", "western-europe", "eu", "dach", "benelux", "iberia", "british-isles", "nordic",
                  "world")


def mobile_offered(device: Device, release: Release | None) -> bool:
    """Mobile cameras are offered where the device shows them and the release has some."""
    return bool(device.mobile and release is not None and release.counts.get("kind", {}).get("mobile", 0))


def coverage_choices(device: Device, release: Release | None) -> list[tuple[str, str]]:
    key = (device.id, release.pk if release is not None else None, release.sha256 if release is not None else "")
    cached = _CHOICES.get(key)
    if cached is None:
        cached = _CHOICES[key] = _coverage_choices(device, release)
        while len(_CHOICES) > 256:
            _CHOICES.pop(next(iter(_CHOICES)))
    return cached


_CHOICES: dict = {}


def _coverage_choices(device: Device, release: Release | None) -> list[tuple[str, str]]:
    names = regions.country_names()
    choices = [(device.default_coverage, f"{regions.REGIONS[device.default_coverage].name} (default)")
               if device.default_coverage in regions.REGIONS else (device.default_coverage, device.default_coverage)]
    choices += [(slug, regions.REGIONS[slug].name) for slug in PRESET_REGIONS
                if slug in regions.REGIONS and slug != device.default_coverage]
    if release is not None:
        counts = release.counts.get("country", {})
        choices += [(code, f"{names.get(code, code)} only") for code in sorted(counts, key=lambda c: names.get(c, c))]
    return choices


class PurchaseForm(forms.Form):
    email = forms.EmailField(label="Your email address (your login)", max_length=254)

    def __init__(self, device: Device, release: Release | None, *args, require_email: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.device, self.release = device, release
        self.fields["email"].required = require_email
        if mobile_offered(device, release):
            self.fields["mobile"] = forms.BooleanField(label="Mobile cameras and zones", required=False)
        if device.icon_swap:
            self.fields["icons"] = forms.ChoiceField(
                label="Icons for cameras in France", initial="speed", required=False,
                choices=ICON_SET_CHOICES)
        if device.coverage_setup:
            self.fields["coverage"] = forms.ChoiceField(label="Coverage", choices=coverage_choices(device, release),
                                                        initial=device.default_coverage, required=False)

    def clean(self):
        data = super().clean()
        offered = {"mobile": "mobile" in self.fields, "icons": "icons" in self.fields,
                   "coverage": "coverage" in self.fields}
        why = {"mobile": f"{self.device.name} cannot show mobile cameras" if not self.device.mobile
               else "this release has no mobile cameras",
               "icons": f"{self.device.name} cannot swap icon sets",
               "coverage": f"{self.device.name} takes the default coverage only: {self.device.coverage_note}"}
        for name, ok in offered.items():
            if not ok and self.data.get(name) not in (None, "", "0", "off", "false", "speed",
                                                      self.device.default_coverage):
                self.add_error(None, f"option {name!r} is not offered for this device: {why[name]}")
        return data

    def spec(self) -> dict:
        """The order's options (validated)."""
        data = self.cleaned_data
        coverage = data.get("coverage") or self.device.default_coverage
        try:
            Coverage.parse([coverage])
        except CoverageError as exc:
            raise forms.ValidationError(str(exc))
        return {"mobile": bool(data.get("mobile")), "icons": data.get("icons") or "speed", "coverage": [coverage]}
