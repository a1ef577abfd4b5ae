"""The customer panel end to end, where a person clicks: headless Chromium on the live server,
purchases paid on localstripe, packages built by a real Celery worker, the login password
read from the email the SMTP sink received."""

import re

import pytest
from django.test import Client

from portal.models import Download, Order

from tests.portal.panelkit import manifest
from tests.portal.shopping import buy, make_release, wait_for
from tests.portal.e2e.test_shop_e2e import mails_to, password_in, subject

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(settings, tmp_path, live_server, localstripe, smtp_sink, celery_worker_process):
    from django.core.cache import cache

    cache.clear()
    settings.SITE_URL = live_server.url
    return make_release(tmp_path)


def purchase(email, smtp_sink, **data) -> Order:
    """A purchase through the server on localstripe; waits for its file."""
    order = buy(Client(), email=email, **data)
    assert wait_for(lambda: Order.objects.get(pk=order.pk).package_key, 60)
    return Order.objects.get(pk=order.pk)


def password_for(smtp_sink, email) -> str:
    assert wait_for(lambda: any(subject(m) == "Your customer panel login" for m in mails_to(smtp_sink, email)), 30)
    return password_in(next(m for m in mails_to(smtp_sink, email) if subject(m) == "Your customer panel login"))


def log_in(page, base, email, password):
    page.goto(f"{base}/account/")                       # the panel sends a visitor to the login page
    page.wait_for_url(re.compile(r"/account/login/"))
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{base}/account/")


def download(page) -> dict:
    with page.expect_download() as info:
        page.click("#download")
    return manifest(open(info.value.path(), "rb").read())


def test_a_customer_logs_in_with_the_emailed_password_and_downloads_the_file(shop, live_server, page, smtp_sink):
    order = purchase("nina@example.com", smtp_sink, mobile="on", coverage="FR")
    log_in(page, live_server.url, "nina@example.com", password_for(smtp_sink, "nina@example.com"))
    assert "TomTom GO classic" in page.inner_text("#device-name")
    assert "new releases are included until" in page.inner_text("#updates")
    data = download(page)
    assert data["device"]["id"] == "tomtom-go-classic" and data["counts"]["by_country"].keys() == {"FR"}
    assert data["options"]["mobile"] is True
    [row] = Download.objects.filter(order=order)
    assert row.release == shop and row.via == "panel"
    page.reload()
    assert "panel" in page.inner_text("#downloads")
    assert "No changes" in page.inner_text("#changes")


def test_a_customer_with_two_devices_switches_between_them_with_the_selector(shop, live_server, page, smtp_sink):
    tomtom = purchase("omar@example.com", smtp_sink, coverage="FR")
    garmin = purchase("omar@example.com", smtp_sink, device="garmin-nuvi", coverage="DE")
    log_in(page, live_server.url, "omar@example.com", password_for(smtp_sink, "omar@example.com"))
    assert page.locator("#device-select option").count() == 2
    assert "Garmin nüvi" in page.inner_text("#device-name")                 # the newest purchase first
    assert download(page)["counts"]["by_country"].keys() == {"DE"}
    page.select_option("#device-select", str(tomtom.public_id))
    page.wait_for_url(f"{live_server.url}/account/devices/{tomtom.public_id}/")
    assert "TomTom GO classic" in page.inner_text("#device-name")
    assert download(page)["device"]["id"] == "tomtom-go-classic"
    page.select_option("#device-select", str(garmin.public_id))
    page.wait_for_url(f"{live_server.url}/account/devices/{garmin.public_id}/")
    assert "Garmin nüvi" in page.inner_text("#device-name")
    assert Download.objects.filter(order=garmin).count() == 1 and Download.objects.filter(order=tomtom).count() == 1


def test_a_customer_sets_up_the_coverage_and_the_next_download_has_it(shop, live_server, page, smtp_sink):
    order = purchase("ines@example.com", smtp_sink, device="garmin-nuvi", coverage="FR")
    log_in(page, live_server.url, "ines@example.com", password_for(smtp_sink, "ines@example.com"))
    page.click("#coverage-setup")
    page.wait_for_url(re.compile(r"/coverage/$"))
    size = page.locator("#coverage-size")
    page.wait_for_function("document.getElementById('coverage-size').dataset.fits === 'yes'")
    before = int(size.get_attribute("data-pois"))
    # the cameras, then the device's POIs against its limit (no longer both called "cameras")
    assert re.match(r"[\d,]+ cameras?, .*POIs? of the 50,000 the device takes\)", size.inner_text())
    page.check("input[name=codes][value=BE]")
    page.wait_for_function(f"Number(document.getElementById('coverage-size').dataset.pois) > {before}")
    assert "fits the device" in size.inner_text()
    page.click("#save-coverage")
    page.wait_for_url(f"{live_server.url}/account/devices/{order.public_id}/")
    assert "Belgium" in page.inner_text("#coverage-now")      # (the page may already have reloaded)
    # the worker builds the new file; the page polls and reloads when it is ready
    page.wait_for_selector("#download:not(:has-text('previous'))", timeout=60_000)
    page.wait_for_function("!document.getElementById('building')", timeout=60_000)
    data = download(page)
    assert data["counts"]["by_country"].keys() == {"BE", "FR"} and data["coverage"]["codes"] == ["BE", "FR"]
    order.refresh_from_db()
    assert order.coverage == ["BE", "FR"]
