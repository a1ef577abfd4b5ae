"""The Content-Security-Policy in Chromium, enforced (the other browser tests bypass it):
the home page's map, the device page (its legal notes following the coverage) and the
checkout with Stripe.js (localstripe's) work with zero violations, and the header is on
every page. The help, contact and legal pages fit a 375-px phone."""

import pytest
from django.urls import reverse

from tests.portal.shopping import make_release
from tests.services import guarded_page

pytestmark = pytest.mark.django_db(transaction=True)

# Collected in the page before any of its scripts runs: every violation the policy reports.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


@pytest.fixture
def csp_page(browser):
    """A page with the site's policy enforced, recording violations and console errors."""
    gen = guarded_page(browser, enforce_csp=True)
    page = next(gen)
    page.add_init_script(WATCH)
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    try:
        next(gen)
    except StopIteration:
        pass


def violations(page) -> list[str]:
    reported = page.evaluate("window.__csp")
    console = [t for t in page.console_errors if "content security policy" in t.lower()]
    return reported + console


@pytest.fixture
def shop(settings, tmp_path, live_server, localstripe):
    settings.SITE_URL = live_server.url
    return make_release(tmp_path)


def test_the_map_the_device_page_and_the_checkout_run_under_the_policy(shop, live_server, csp_page):
    page = csp_page
    response = page.goto(live_server.url + "/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    page.wait_for_selector(".camera-cluster, .leaflet-interactive", timeout=15_000)  # the map drew its clusters
    assert violations(page) == []

    # The device page: its inline script (nonce) updates the price; the legal notes follow the coverage.
    page.goto(live_server.url + reverse("shop-device", args=["tomtom-go-classic"]))
    page.wait_for_selector("#size:has-text('cameras')", timeout=15_000)
    notes = page.locator("#legal-notes")
    assert notes.is_visible()  # the default coverage holds France and Germany
    assert page.locator(".legal-note[data-country=DE]").is_visible()
    assert not page.locator(".legal-note[data-country=CH]").is_visible()  # not in the default
    page.select_option("#id_coverage", "dach")
    page.wait_for_selector(".legal-note[data-country=CH]", state="visible")
    assert page.locator(".legal-note[data-country=DE]").is_visible()
    assert not page.locator(".legal-note[data-country=FR]").is_visible()
    page.select_option("#id_coverage", "iberia")
    page.wait_for_selector("#legal-notes", state="hidden")
    page.select_option("#id_coverage", "dach")
    assert violations(page) == []

    # The checkout: Stripe.js (from localstripe's address, in the policy) mounts the card form;
    # the box for the law of Germany and Switzerland is required before paying.
    page.click("button:has-text('Buy')")
    page.wait_for_selector("#card input[placeholder=number]", timeout=15_000)
    assert page.locator("#legal-ack .legal-note").count() == 2
    assert page.locator("#legal_ack").get_attribute("required") is not None
    page.fill("#email", "csp@example.com")
    for name, value in (("number", "4242424242424242"), ("exp_month", "12"), ("exp_year", "34"), ("cvc", "123"),
                        ("postal_code", "10115")):
        page.fill(f"#card input[placeholder={name}]", value)
    page.check("#legal_ack")
    page.click("#pay")
    page.wait_for_url("**/orders/*/", timeout=30_000)
    assert violations(page) == []
    assert [e for e in page.console_errors if "blockedbyclient" not in e.lower()
            and "failed to load resource" not in e.lower()] == []


PAGES = ["pages-help", "pages-contact", "pages-terms", "pages-privacy", "pages-notice", "pages-refunds",
         "pages-legal-notes"]


def test_the_help_contact_and_legal_pages_fit_a_phone_and_obey_the_policy(live_server, csp_page):
    page = csp_page
    page.set_viewport_size({"width": 375, "height": 740})
    for name in PAGES:
        response = page.goto(live_server.url + reverse(name))
        assert response.status == 200 and "content-security-policy" in response.headers, name
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (name, width)
        # every page links to the others from its footer
        assert page.locator("footer .footer-links a").count() == len(PAGES)
    assert violations(page) == []
