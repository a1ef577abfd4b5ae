"""The help, contact and legal pages: each answers, states what the shop really does (the
settings it runs with), names the seller from the environment, and is linked from the footer
of every page."""

import datetime

import pytest
from django.urls import reverse

from cameras import legal
from portal.services import l10n

pytestmark = pytest.mark.django_db

PAGES = ["pages-help", "pages-contact", "pages-terms", "pages-privacy", "pages-notice", "pages-refunds",
         "pages-legal-notes"]


@pytest.fixture(autouse=True)
def _clean(local_cache):
    pass


def text(client, name) -> str:
    response = client.get(reverse(name))
    assert response.status_code == 200, name
    return response.content.decode()


@pytest.mark.parametrize("where", ["home-page", "accounts-login", "accounts-password-reset", *PAGES])
def test_every_page_links_to_the_help_contact_and_legal_pages(client, where):
    page = text(client, where)
    footer = page.split('<footer class="site">')[1]
    for name in PAGES:
        assert f'href="{reverse(name)}"' in footer, (where, name)


def test_the_device_page_has_the_footer_too(client, release):
    page = client.get(reverse("shop-device", args=["garmin-nuvi"])).content.decode()
    assert f'href="{reverse("pages-privacy")}"' in page.split("<footer")[1]


def test_the_help_answers_the_daily_questions_with_the_shops_settings(client, settings):
    settings.UPDATE_MONTHS = 3
    settings.STALE_FILE_DAYS = 183
    settings.PASSWORD_RESET_TIMEOUT = 48 * 3600
    page = " ".join(text(client, "pages-help").split())
    for anchor in ("install", "memory", "updates", "mobile", "devices", "password"):
        assert f'id="{anchor}"' in page
    assert "updates for 3 months" in page
    assert "more than 183 days old" in page
    assert "it works for 48 hours" in page
    assert "INSTALL.txt" in page and "Add a device" in page and reverse("accounts-password-reset") in page
    assert "Switzerland is never in a default coverage" in page


def test_the_legal_notice_names_the_seller_from_the_environment(client, settings):
    settings.SELLER_NAME = "Radar Files SARL"
    settings.SELLER_ADDRESS = "12 rue de la Paix, 75002 Paris"
    settings.SELLER_REGISTRATION = "RCS Paris 123 456 789"
    settings.SELLER_EMAIL = "help@radar.example"
    for name in ("pages-notice", "pages-terms", "pages-privacy"):
        page = text(client, name)
        assert "Radar Files SARL" in page and "12 rue de la Paix, 75002 Paris" in page, name
    notice = text(client, "pages-notice")
    assert "RCS Paris 123 456 789" in notice and "mailto:help@radar.example" in notice


def test_the_refund_policy_states_the_report_then_repackage_or_refund_rule(client, settings):
    settings.REPORT_MAX_OPEN = 3
    page = " ".join(text(client, "pages-refunds").split())
    assert "error report" in page and "Repackage" in page and "Refund" in page
    assert "refund the purchase in full to the card you paid with" in page
    assert "up to 3 open reports" in page


def test_the_privacy_policy_says_what_is_stored_and_how_to_delete(client):
    page = " ".join(text(client, "pages-privacy").split())
    for stored in ("password (only as a salted hash)", "payment references", "Error reports", "Contact messages",
                   "session cookie"):
        assert stored in page
    assert "Download my data" in page and "Delete my account" in page and "accounting and tax law" in page


def test_the_camera_laws_page_lists_every_note_with_its_source_and_date(client):
    page = text(client, "pages-legal-notes")
    for note in legal.NOTES.values():
        checked = l10n.date(datetime.date.fromisoformat(note.checked))  # "December 6, 2026"
        assert f'id="law-{note.country}"' in page and note.law in page and checked in page
    assert 'href="https://lawbrary.ch/law/art/SVG-v2019.01-de-art-98a"' in page
