"""The whole customer journey on a 375-px phone, in Chromium against localstripe, the Celery
worker and the SMTP sink: the purchase, the panel and its download, an error report and the
annual upgrade. At each step the page is no wider than the screen and the customer gets
what they asked for."""

import pytest

from exporters.devices import get_device
from portal.models import Order
from portal.services.pricing import quote
from tests.portal.e2e.test_panel_e2e import download, log_in, password_for
from tests.portal.e2e.test_panel_extra_e2e import customer_reports, messages, panel_url
from tests.portal.e2e.test_panel_extra_e2e import shop  # noqa: F401 - the fixture: release, worker, SMTP sink
from tests.portal.e2e.test_shop_e2e import pay_in_browser
from tests.portal.shopping import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 740}
EMAIL = "phone@example.com"


def fits(page) -> int:
    """How many pixels the page is wider than the phone (0 when it fits), once the page has
    loaded: after a click, ``#messages`` can be in the DOM before the stylesheet applies, and
    an unstyled panel (its 480-px map, its tables) is wider than any phone."""
    page.wait_for_load_state("load")
    return max(0, page.evaluate("document.documentElement.scrollWidth") - PHONE["width"])


def test_a_customer_buys_uses_the_panel_reports_and_upgrades_on_a_phone(shop, live_server, page,  # noqa: F811
                                                                        smtp_sink):
    base = live_server.url
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/devices/tomtom-go-classic/")
    assert fits(page) == 0, "device page"

    # the purchase, in the browser at phone width
    order = pay_in_browser(page, base, "tomtom-go-classic", EMAIL, coverage="FR")
    assert order.status == Order.Status.PAID
    assert order.amount == quote(get_device("tomtom-go-classic"), mobile=False).amount
    assert fits(page) == 0, "order page"
    assert wait_for(lambda: Order.objects.get(pk=order.pk).package_key, 60)

    # the panel and its download
    log_in(page, base, EMAIL, password_for(smtp_sink, EMAIL))
    assert fits(page) == 0, "panel"
    data = download(page)
    assert data["device"]["id"] == "tomtom-go-classic" and data["counts"]["by_country"].keys() == {"FR"}

    # an error report with a screenshot
    filed = customer_reports(page, base, order, "The file shows no camera near Lyon.")
    assert filed.text == "The file shows no camera near Lyon."
    assert fits(page) == 0, "panel after the report"

    # the annual upgrade, within the 7 days
    page.goto(panel_url(base, order))
    page.click("#upgrade")
    page.wait_for_selector("#messages")
    assert "Your purchase is now an annual subscription until" in messages(page)
    assert fits(page) == 0, "panel after the upgrade"
    order.refresh_from_db()
    assert order.plan == "annual" and order.subscription_status == "active" and order.upgrade_amount > 0
