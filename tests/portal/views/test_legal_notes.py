"""The per-country legal notes before purchase: on the device page for the chosen coverage,
at checkout as a required box (enforced by the server, stored on the order), and not asked
where the coverage holds no such country."""

import json

import uuid

import pytest
from django.urls import reverse

from portal.models import Order
from tests.portal.panelkit import first_release

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean(local_cache):
    pass


@pytest.fixture
def release(tmp_path):
    return first_release(tmp_path)


@pytest.fixture
def started(monkeypatch):
    """The checkout starts without Stripe (the order is created as the view creates it)."""
    from portal.services import payments

    monkeypatch.setattr(payments, "save_card", lambda order, token: "card_x")


def start(client, device="tomtom-go-classic", **data):
    """Pay on a new checkout page (its key), with the card step stubbed out."""
    return client.post(reverse("shop-checkout-start", args=[device]),
                       {"email": "lea@example.com", "checkout": str(uuid.uuid4()), **data})


def test_the_device_page_shows_the_notes_of_the_default_coverage_and_knows_every_choices(client, release):
    page = client.get(reverse("shop-device", args=["tomtom-go-classic"]))
    text = page.content.decode()
    shown = page.context["legal_shown"]
    assert shown == ["FR", "DE"]  # the default (Europe without Switzerland)
    by_coverage = page.context["legal_by_coverage"]
    assert by_coverage["dach"] == ["DE", "CH"] and by_coverage["FR"] == ["FR"] and "iberia" not in by_coverage
    data = json.loads(text.split('id="legal-by-coverage" type="application/json">')[1].split("</script>")[0])
    assert data == by_coverage
    assert "StVO § 23 Abs. 1c" in text and "Art. 98a" in text  # every note a choice may show is in the page
    assert 'class="legal-note" data-country="CH" hidden' in text  # the Swiss one hidden until chosen


def test_a_coverage_without_such_a_country_shows_no_notes(client, release):
    page = client.get(reverse("shop-checkout", args=["tomtom-go-classic"]), {"coverage": "iberia"})
    assert page.status_code == 200
    assert page.context["legal_required"] == [] and 'id="legal_ack"' not in page.content.decode()


def test_checkout_requires_the_box_for_the_law_of_the_coverage(client, release, started):
    page = client.get(reverse("shop-checkout", args=["tomtom-go-classic"]), {"coverage": "dach"})
    text = page.content.decode()
    assert 'name="legal_ack" id="legal_ack" required' in text
    assert "Germany: prohibited while driving." in text and "Switzerland: prohibited." in text

    refused = start(client, coverage="dach")
    assert refused.status_code == 400
    message = " ".join(refused.json()["errors"]["legal_ack"])
    assert "Germany, Switzerland" in message and "tick the box" in message
    assert not Order.objects.exists()  # nothing made without the acknowledgement

    accepted = start(client, coverage="dach", legal_ack="on")
    assert accepted.status_code == 200
    assert Order.objects.get().legal_ack == ["DE", "CH"]


def test_no_box_is_needed_where_no_note_applies(client, release, started):
    assert start(client, coverage="iberia").status_code == 200
    assert Order.objects.get().legal_ack == []


def test_a_device_with_a_fixed_coverage_asks_for_its_defaults_notes(client, release, started):
    """Sygic takes its default (the world without Switzerland): France and Germany are in it."""
    refused = start(client, device="sygic-android")
    assert refused.status_code == 400 and "France, Germany" in " ".join(refused.json()["errors"]["legal_ack"])
    assert start(client, device="sygic-android", legal_ack="on").status_code == 200
    assert Order.objects.get().legal_ack == ["FR", "DE"]
