"""The checkout's billing country in Chromium, at desktop and phone width: a select of
country names that fits a 375-px screen, posting the country the customer picks."""

import pytest
from django.urls import reverse

from portal.models import Order
from portal.services import payments

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 375])
def test_the_billing_country_select_fits_the_screen_and_is_posted(live_server, page, release, width, monkeypatch,
                                                                  settings):
    settings.DEFAULT_BILLING_COUNTRY = "FR"
    monkeypatch.setattr(payments, "save_card", lambda order, token: "card_x")  # the payment is other tests' part
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + reverse("shop-checkout", args=["tomtom-go-classic"]))
    select = page.locator("select[name=billing_country]")
    assert select.input_value() == "FR"
    assert page.inner_text("label[for=id_billing_country]") == "Billing country (where you live)"
    box = select.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    select.select_option(label="Poland")
    page.fill("#email", "pia@example.com")
    if page.locator("#legal_ack").count():  # the default coverage holds a country with a legal note
        page.check("#legal_ack")
    # what the page posts to start the payment: its form, as the Pay button sends it
    status = page.evaluate("""url => fetch(url, {method: "POST", body: new FormData(document.getElementById("checkout")),
        headers: {"X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value}}).then(r => r.status)""",
                           reverse("shop-checkout-start", args=["tomtom-go-classic"]))
    assert status == 200
    assert Order.objects.get(email="pia@example.com").billing_country == "PL"
