"""views.downloads through Django's test client: the signed email link (no login: the link is
the key) and the panel's link (its owner only) serve the file and record the download; an
expired email link gets the expiry page, an expired panel link sends its owner back to the
purchase page with a fresh link; tampered, revoked and other customers' links give nothing."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import Download, Order
from portal.services import fulfilment, links
from portal.services.packages import ensure_package, order_spec, stored_package

from tests.portal.panelkit import body, manifest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _links(settings):
    settings.DOWNLOAD_LINK_MAX_AGE = 14 * 24 * 3600
    settings.PANEL_DOWNLOAD_LINK_MAX_AGE = 3600
    settings.UPDATE_MONTHS = 12
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def order(release, owner_order):
    """The owner's purchase, fulfilled: its package of the latest release is in the store."""
    package = ensure_package(*order_spec(owner_order), release=release)
    Order.objects.filter(pk=owner_order.pk).update(package_key=package.key, release=release,
                                                   package_bytes=package.size)
    owner_order.refresh_from_db()
    return owner_order


def file_bytes(order) -> bytes:
    return stored_package(order).path.read_bytes()


def email_url(order) -> str:
    return links.download_url(order, order.package_key)


def panel_url(order) -> str:
    return links.panel_url(order, stored_package(order))


def tampered(url: str) -> str:
    """The same link with the last two characters of its signature changed."""
    token = url.rstrip("/").split("/")[-1]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    return url.replace(token, forged)


def later(seconds: int):
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds))


# ---------------------------------------------------------------------------------------
# the email link


def test_the_email_link_downloads_the_file_without_a_login_and_records_it_as_an_email_download(order, release):
    response = Client().get(email_url(order))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="speedcams-tomtom-go-classic-r{release.number}.zip"')
    data = body(response)
    assert data == file_bytes(order) and manifest(data)["device"]["id"] == "tomtom-go-classic"
    download = Download.objects.get(order=order)
    assert (download.via, download.release, download.package_key) == ("email", release, order.package_key)


def test_the_email_link_never_reads_the_releases_changelog(order):
    """A first release's changelog lists up to 50,000 camera ids: a download needs none of it
    (on a release-day rush it was read and parsed once per download)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert Client().get(email_url(order)).status_code == 200
    assert queries.captured_queries and not [q for q in queries.captured_queries if "changelog" in q["sql"]]


def test_the_email_link_works_until_it_expires_and_then_gets_the_expiry_page(order):
    url = email_url(order)
    with later(django_settings.DOWNLOAD_LINK_MAX_AGE - 60):
        assert Client().get(url).status_code == 200
    with later(django_settings.DOWNLOAD_LINK_MAX_AGE + 5):
        response = Client().get(url)
    assert response.status_code == 410
    page = response.content.decode()
    assert "This download link has expired" in page and reverse("accounts-login") in page
    assert Download.objects.count() == 1                              # only the download before expiry


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_email_link_is_404_whatever_the_method(order, method):
    response = getattr(Client(), method)(tampered(email_url(order)))
    assert response.status_code == 404 and not Download.objects.exists()


def test_a_valid_email_link_only_answers_get(order):
    response = Client().post(email_url(order))
    assert response.status_code == 405 and not Download.objects.exists()


def test_a_refunded_orders_email_link_is_404(order):
    url = email_url(order)
    fulfilment.refunded(order.pk)
    response = Client().get(url)
    assert response.status_code == 404 and not Download.objects.exists()


# ---------------------------------------------------------------------------------------
# the panel link


def test_the_panel_link_serves_its_owner_and_records_the_release(order, owner_client, release):
    response = owner_client.get(panel_url(order))
    assert response.status_code == 200 and body(response) == file_bytes(order)
    assert response["Content-Disposition"].startswith("attachment;")
    download = Download.objects.get(order=order)
    assert (download.via, download.release) == ("panel", release)


def test_the_panel_link_is_404_for_another_customer(order, outsider_client, outsider_order):
    url = panel_url(order)
    token = url.rstrip("/").split("/")[-1]
    assert outsider_client.get(url).status_code == 404                                             # on the owner's purchase
    assert outsider_client.get(reverse("download-panel", args=[outsider_order.public_id, token])).status_code == 404
    assert not Download.objects.exists()


def test_the_panel_link_sends_an_anonymous_visitor_to_the_login_page(order):
    response = Client().get(panel_url(order))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts-login"))
    assert not Download.objects.exists()


def test_an_expired_panel_link_sends_its_owner_to_the_purchase_page_with_a_fresh_link(order, owner_client):
    url = panel_url(order)
    with later(django_settings.PANEL_DOWNLOAD_LINK_MAX_AGE + 5):
        response = owner_client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("panel-order", args=[order.public_id])
        assert not Download.objects.exists()
        page = owner_client.get(response["Location"]).content.decode()
        assert "That download link had expired; here is a fresh one." in page
        fresh = re.search(r'id="download" href="([^"]+)"', page).group(1)
        assert fresh != url
        again = owner_client.get(fresh)
    assert again.status_code == 200 and body(again) == file_bytes(order)
    assert Download.objects.get(order=order).via == "panel"
