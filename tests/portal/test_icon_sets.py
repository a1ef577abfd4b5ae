"""The icon sets are defined once (exporters.base.ICON_SET_CHOICES): the shop's form and the
panel offer exactly the sets the exporters build, under the same names."""

import pytest
from django.test import Client
from django.urls import reverse

from exporters.base import ICON_SET_CHOICES, ICON_SETS, ExportError, ExportOptions
from exporters.devices import get_device
from portal.forms import PurchaseForm
from portal.services import purchases

from tests.portal.panelkit import customer, paid_order

TOMTOM = get_device("tomtom-go-classic")   # a device that can swap icon sets


def test_every_icon_set_offered_is_one_the_exporters_build():
    assert [value for value, _label in ICON_SET_CHOICES] == list(ICON_SETS)
    for value in ICON_SETS:
        assert ExportOptions(icons=value).icons == value
    with pytest.raises(ExportError):
        ExportOptions(icons="pirate-flags")


@pytest.mark.django_db
def test_the_shop_form_offers_the_icon_sets_by_name_and_refuses_others(release):
    # legal_ack: the default coverage holds France and Germany (checkout asks for the box)
    form = PurchaseForm(TOMTOM, release, data={"email": "lea@example.com", "icons": "fr-danger", "legal_ack": "on"})
    assert list(form.fields["icons"].choices) == list(ICON_SET_CHOICES)
    assert form.is_valid() and form.spec()["icons"] == "fr-danger"
    assert not PurchaseForm(TOMTOM, release, data={"email": "lea@example.com", "icons": "pirate-flags"}).is_valid()


@pytest.mark.django_db
def test_the_panel_offers_the_same_icon_sets_and_saves_only_those(release, settings, tmp_path):
    settings.PACKAGES_DIR = tmp_path / "packages"
    lea = customer()
    order = paid_order(lea, TOMTOM.id)
    browser = Client()
    browser.force_login(lea)
    page = browser.get(reverse("panel-order", args=[order.public_id])).content.decode()
    for value, label in ICON_SET_CHOICES:
        assert f'name="icons" value="{value}"' in page and label in page
    for value in ICON_SETS:
        assert purchases.save_icons(order, value).icons == value
    with pytest.raises(purchases.PanelError, match="unknown icon set"):
        purchases.save_icons(order, "pirate-flags")
