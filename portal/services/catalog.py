"""What the shop offers, shared by the purchase form and the price list: the preset coverage
regions (named by ``naming.code_name``), and where mobile cameras are offered."""

from __future__ import annotations

from cameras.models import Release
from exporters.devices import Device

PRESET_REGIONS = ("europe", "western-europe", "eu", "dach", "benelux", "iberia", "british-isles", "nordic",
                  "world")


def mobile_offered(device: Device, release: Release | None) -> bool:
    """Mobile cameras are offered where the device shows them and the release has some."""
    return bool(device.mobile and release is not None and release.counts.get("kind", {}).get("mobile", 0))

