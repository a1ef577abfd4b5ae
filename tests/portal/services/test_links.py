"""services.links, the one signer of download links: email links (no login) and panel links
(their owner only) work, expire, and refuse what is not theirs; links signed before there was
one signer keep working until they expire."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import Download, Order
from portal.services import links
from portal.services.packages import ensure_package, order_spec, stored_package

from tests.portal.panelkit import customer, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _store(settings, tmp_path):
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.DOWNLOAD_LINK_MAX_AGE = 14 * 24 * 3600
    settings.PANEL_DOWNLOAD_LINK_MAX_AGE = 3600


def with_file(user, release) -> Order:
    order = paid_order(user, coverage=["FR"])
    stored = ensure_package(*order_spec(order), release=release)
    Order.objects.filter(pk=order.pk).update(package_key=stored.key, release=release, package_bytes=stored.size)
    order.refresh_from_db()
    return order


@pytest.fixture
def ana(release):
    user = customer("ana@example.com")
    return with_file(user, release)


@pytest.fixture
def ana_browser(ana):
    browser = Client()
    browser.force_login(ana.user)
    return browser


def file_of(response) -> bytes:
    return b"".join(response.streaming_content)


def package_bytes(order) -> bytes:
    return stored_package(order).path.read_bytes()


def email_link(token) -> str:
    return reverse("download-link", args=[token])


def panel_link(order, token) -> str:
    return reverse("download-panel", args=[order.public_id, token])


def old_email_token(order) -> str:
    """An email link as it was signed before there was one signer."""
    return signing.TimestampSigner(salt="portal.download").sign(f"{order.public_id}:{order.package_key}")


def old_panel_token(order) -> str:
    return signing.TimestampSigner(salt="portal.panel.download").sign(
        f"{order.public_id}:{order.package_key}:{order.release.number}")


# --------------------------------------------------------------------------- what works


def test_an_email_link_downloads_the_file_without_a_login(ana):
    response = Client().get(links.download_url(ana, ana.package_key))
    assert response.status_code == 200 and file_of(response) == package_bytes(ana)
    assert Download.objects.get(order=ana).via == "email"


def test_a_panel_link_downloads_the_file_for_its_owner_with_its_release(ana, ana_browser):
    response = ana_browser.get(links.panel_url(ana, stored_package(ana)))
    assert response.status_code == 200 and file_of(response) == package_bytes(ana)
    assert Download.objects.get(order=ana).release == ana.release


def test_an_email_link_signed_the_old_way_still_downloads(ana):
    response = Client().get(email_link(old_email_token(ana)))
    assert response.status_code == 200 and file_of(response) == package_bytes(ana)


def test_a_panel_link_signed_the_old_way_still_downloads(ana, ana_browser):
    response = ana_browser.get(panel_link(ana, old_panel_token(ana)))
    assert response.status_code == 200 and file_of(response) == package_bytes(ana)
    assert Download.objects.get(order=ana).release == ana.release


# --------------------------------------------------------------------------- expired


@pytest.mark.parametrize("make", [lambda o: links.download_token(o, o.package_key), old_email_token],
                         ids=["new", "old"])
def test_an_expired_email_link_gets_the_expiry_page(ana, make):
    token = make(ana)
    with time_machine.travel(timezone.now() + timedelta(days=14, seconds=5)):
        response = Client().get(email_link(token))
    assert response.status_code == 410 and b"This download link has expired" in response.content
    assert not Download.objects.exists()


@pytest.mark.parametrize("make", [lambda o: links.panel_token(o, stored_package(o)), old_panel_token],
                         ids=["new", "old"])
def test_an_expired_panel_link_sends_its_owner_back_to_the_panel(ana, ana_browser, make):
    token = make(ana)
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=5)):
        response = ana_browser.get(panel_link(ana, token))
    assert response.status_code == 302 and response["Location"] == reverse("panel-order", args=[ana.public_id])
    assert not Download.objects.exists()


def test_a_panel_link_lasts_less_than_an_email_link(ana):
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert Client().get(links.download_url(ana, ana.package_key)).status_code == 200


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize("make", [lambda o: links.panel_token(o, stored_package(o)), old_panel_token],
                         ids=["new", "old"])
def test_another_customers_panel_link_is_404(ana, release, make):
    eve_order = with_file(customer("eve@example.com"), release)
    eve = Client()
    eve.force_login(eve_order.user)
    token = make(ana)
    assert eve.get(panel_link(eve_order, token)).status_code == 404    # on her own purchase
    assert eve.get(panel_link(ana, token)).status_code == 404          # on Ana's
    assert not Download.objects.exists()


def tampered(token: str) -> str:
    value, _, signature = token.rpartition(":")
    return f"{value}:{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"


@pytest.mark.parametrize("old", [False, True], ids=["new", "old"])
def test_a_tampered_link_is_404(ana, ana_browser, old):
    email_token = old_email_token(ana) if old else links.download_token(ana, ana.package_key)
    panel_token = old_panel_token(ana) if old else links.panel_token(ana, stored_package(ana))
    assert Client().get(email_link(tampered(email_token))).status_code == 404
    assert ana_browser.get(panel_link(ana, tampered(panel_token))).status_code == 404
    other_key = links.download_token(ana, ana.package_key).replace(ana.package_key, "0" * 64)
    assert Client().get(email_link(other_key)).status_code == 404
    assert not Download.objects.exists()


def test_a_panel_link_opens_nothing_as_an_email_link_nor_the_other_way_round(ana, ana_browser):
    panel_token = links.panel_token(ana, stored_package(ana))
    assert Client().get(email_link(panel_token)).status_code == 404
    assert Client().get(email_link(old_panel_token(ana))).status_code == 404
    assert ana_browser.get(panel_link(ana, links.download_token(ana, ana.package_key))).status_code == 404
    assert ana_browser.get(panel_link(ana, old_email_token(ana))).status_code == 404
    assert not Download.objects.exists()


def test_a_refunded_orders_links_are_404(ana, ana_browser):
    email, panel = links.download_url(ana, ana.package_key), links.panel_url(ana, stored_package(ana))
    Order.objects.filter(pk=ana.pk).update(status=Order.Status.REFUNDED, refunded_at=timezone.now())
    assert Client().get(email).status_code == 404 and ana_browser.get(panel).status_code == 404
