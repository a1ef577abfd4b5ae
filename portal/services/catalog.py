"""What the shop offers, shared by the purchase form and the price list: the preset coverage
regions, and where mobile cameras are offered."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy

from cameras import regions
from cameras.models import Release
from exporters.devices import Device

PRESET_REGIONS = ("europe", "western-europe", "eu", "dach", "benelux", "iberia", "british-isles", "nordic",
                  "world")


def mobile_offered(device: Device, release: Release | None) -> bool:
    """Mobile cameras are offered where the device shows them and the release has some."""
    return bool(device.mobile and release is not None and release.counts.get("kind", {}).get("mobile", 0))


# The names of the regions the shop shows (the presets and the devices' default coverages), in
# the customer's language; cameras.regions keeps the English ones.
REGION_NAMES = {
    "world": gettext_lazy("World"), "europe": gettext_lazy("Europe"),
    "western-europe": gettext_lazy("Western Europe"), "central-europe": gettext_lazy("Central Europe"),
    "eu": gettext_lazy("European Union"), "dach": gettext_lazy("DACH"), "benelux": gettext_lazy("Benelux"),
    "iberia": gettext_lazy("Iberian Peninsula"), "british-isles": gettext_lazy("British Isles"),
    "nordic": gettext_lazy("Nordic countries"),
}


def region_name(code: str) -> str:
    """A region slug named in the active language ("Europe without Switzerland" for the
    ``-no-ch`` variants); any other code as cameras.regions names it, else the code."""
    if code in REGION_NAMES:
        return str(REGION_NAMES[code])
    if code.endswith("-no-ch") and code[:-len("-no-ch")] in REGION_NAMES:
        return gettext("%(region)s without Switzerland") % {"region": REGION_NAMES[code[:-len("-no-ch")]]}
    region = regions.REGIONS.get(code)
    return region.name if region is not None else code
