"""Two identical purchases told apart in the panel: each shows its order number and date, and
the customer can name one ("Dad's car")."""

import re

import pytest
from django.urls import reverse

from portal.models import LABEL_MAX, Order
from tests.portal.panelkit import customer, paid_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_cache")]


def options(page: str) -> list[str]:
    select = re.search(r'<select name="order" id="device-select">(.*?)</select>', page, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", "", o).split()) for o in re.findall(r"<option[^>]*>(.*?)</option>", select, re.S)]


@pytest.fixture
def twins(db):
    lea = customer()
    return lea, paid_order(lea, coverage=["FR"]), paid_order(lea, coverage=["FR"])


def test_two_identical_purchases_read_differently_in_the_selector(client, twins):
    lea, first, second = twins
    client.force_login(lea)
    page = client.get(reverse("panel-order", args=[first.public_id])).content.decode()
    shown = options(page)
    assert len(shown) == 2 and shown[0] != shown[1]
    number = str(first.public_id).replace("-", "")[:8].upper()
    assert any(f"order {number}" in o for o in shown)
    assert f"{number} of" in re.sub(r"<[^>]+>", "", re.search(r'<td id="order-number">(.*?)</td>', page).group(1))


def test_a_purchase_named_by_its_owner_shows_the_name_in_the_selector_and_heading(client, twins):
    lea, first, second = twins
    client.force_login(lea)
    response = client.post(reverse("panel-label", args=[second.public_id]), {"label": "  Dad's   car "}, follow=True)
    page = response.content.decode()
    assert "now called" in page
    assert Order.objects.get(pk=second.pk).label == "Dad's car"
    heading = re.search(r'<h2 id="device-name">(.*?)</h2>', page).group(1)
    assert heading.startswith("Dad&#x27;s car: TomTom")
    shown = options(page)
    assert sum(o.startswith("Dad&#x27;s car: ") for o in shown) == 1
    client.post(reverse("panel-label", args=[second.public_id]), {"label": ""})
    assert Order.objects.get(pk=second.pk).label == ""


def test_a_name_too_long_or_with_control_characters_is_refused_with_the_reason(client, twins):
    lea, first, _ = twins
    client.force_login(lea)
    page = client.post(reverse("panel-label", args=[first.public_id]), {"label": "x" * (LABEL_MAX + 1)},
                       follow=True).content.decode()
    assert f"please keep it to {LABEL_MAX}" in page
    page = client.post(reverse("panel-label", args=[first.public_id]), {"label": "car\x07"}, follow=True).content.decode()
    assert "letters, digits, spaces and punctuation only" in page
    assert Order.objects.get(pk=first.pk).label == ""


def test_a_name_is_shown_as_text_not_markup(client, twins):
    lea, first, _ = twins
    client.force_login(lea)
    page = client.post(reverse("panel-label", args=[first.public_id]), {"label": "<b>mine</b>"},
                       follow=True).content.decode()
    assert "<b>mine</b>" not in page and "&lt;b&gt;mine&lt;/b&gt;" in page


def test_another_customer_cannot_name_the_purchase(client, twins):
    _lea, first, _ = twins
    client.force_login(customer("eve@example.com"))
    assert client.post(reverse("panel-label", args=[first.public_id]), {"label": "stolen"}).status_code == 404
    client.logout()
    assert client.post(reverse("panel-label", args=[first.public_id]), {"label": "stolen"}).status_code == 302
    assert Order.objects.get(pk=first.pk).label == ""
