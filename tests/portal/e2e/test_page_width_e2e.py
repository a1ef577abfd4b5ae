"""Every customer page fits the screen: at 375 px (a phone) and 1280 px (a laptop) the
document is no wider than the window (document.scrollWidth), measured in Chromium."""

import pytest

from portal.models import Order
from portal.services import fulfilment, links
from portal.services.pricing import BASE_PRICES
from tests.portal.panelkit import PASSWORD, customer
from tests.releases import demo_release

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (375, 1280)


@pytest.fixture
def paid(tmp_path, settings, eager):
    settings.PACKAGES_DIR = tmp_path / "packages"
    demo_release(tmp_path, 400, 2)
    user = customer("width@example.com")
    order = Order.objects.create(email=user.email, device_id="tomtom-go-classic", coverage=["western-europe"],
                                 icons="speed", amount=BASE_PRICES["pnd"], status=Order.Status.PAID,
                                 payment_intent="pi_width")
    fulfilment.fulfil(order.pk)
    order.refresh_from_db()
    assert order.file_ready
    user.set_password(PASSWORD)
    user.save()
    return order


def overflow(page, url: str, width: int) -> int:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page.evaluate("document.documentElement.scrollWidth") - width


def test_every_page_fits_a_phone_and_a_laptop(live_server, page, paid):
    base = live_server.url
    anonymous = {
        "home": "/", "device": "/devices/tomtom-go-classic/",
        "checkout": "/devices/tomtom-go-classic/checkout/?coverage=western-europe",
        "login": "/account/login/",
        "order": links.order_url(paid),
    }
    public_id = paid.public_id
    customer_pages = {
        "panel": f"/account/devices/{public_id}/",
        "coverage": f"/account/devices/{public_id}/coverage/",
        "report": f"/account/purchases/{public_id}/report/",
    }
    too_wide = {}
    for width in WIDTHS:
        for name, path in anonymous.items():
            extra = overflow(page, base + path, width)
            if extra > 0:
                too_wide[f"{name}@{width}"] = extra
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base + "/account/login/")
    page.fill("#id_username", paid.email)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(base + "/account/")
    for width in WIDTHS:
        for name, path in customer_pages.items():
            extra = overflow(page, base + path, width)
            if extra > 0:
                too_wide[f"{name}@{width}"] = extra
    assert too_wide == {}, f"pages wider than the window (px too wide): {too_wide}"
