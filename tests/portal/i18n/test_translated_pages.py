"""Every page in every language: rendered in English and in each other language, no sentence
reads the same in both (a sentence left out of the catalog, or not translated in it).

Also the emails, each kind's subject, text and HTML, rendered the same way."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from exporters.devices import DEVICES
from tests.portal.i18n.textdiff import LANGUAGES, html_segments, text_segments, untranslated
from tests.portal.panelkit import PASSWORD, customer, first_release, paid_order

pytestmark = pytest.mark.django_db

PUBLIC = ["/", "/prices/", "/help/", "/contact/", "/legal/terms/", "/legal/privacy/", "/legal/notice/",
          "/legal/refunds/", "/legal/camera-laws/", "/account/login/", "/account/password/reset/",
          "/account/password/reset/sent/", "/no-such-page/"]


def report(what, left: dict) -> str:
    every = sorted({sentence for same in left.values() for sentence in same})
    lines = [f"English left in {len(left)} translated {what} ({', '.join(list(left)[:6])}...), "
             f"{len(every)} sentences:"]
    lines += [f"  {sentence[:300]}" for sentence in every[:150]]
    return "\n".join(lines)


def prefixed(code: str, path: str) -> str:
    return path if code == "en" else f"/{code}{path}"


@pytest.fixture
def site(tmp_path):
    release = first_release(tmp_path)
    user = customer("polyglot@example.com")
    order = paid_order(user, coverage=("FR", "DE"))
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    purchase = f"/account/devices/{order.public_id}/"
    private = ["/account/", purchase, purchase + "coverage/", purchase.replace("devices", "purchases") + "report/",
               f"/orders/{order.public_id}/", "/account/password/", "/account/delete/",
               "/devices/tomtom-go-classic/checkout/?coverage=FR"]
    return SimpleNamespace(release=release, order=order, client=client, private=private)


def page_sentences(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    return html_segments(response.content.decode())


def check(client, paths):
    left = {}
    english = {path: page_sentences(client, path) for path in paths}
    for code in LANGUAGES:
        for path in paths:
            same = untranslated(english[path], page_sentences(client, prefixed(code, path)))
            if same:
                left[f"{code} {path}"] = same
    assert not left, report("pages", left)


def test_public_pages_have_no_english_left(site):
    check(Client(), PUBLIC)


def test_the_customers_pages_have_no_english_left(site):
    check(site.client, site.private)


def test_every_device_page_has_no_english_left(site):
    check(Client(), [f"/devices/{device.id}/" for device in DEVICES])


# ------------------------------------------------------------------------------ emails

EMAILS = Path(settings.BASE_DIR) / "portal" / "templates" / "portal" / "email"


def email_context(order):
    """Everything any email template reads, so that each renders its every sentence."""
    now = timezone.now()
    release = SimpleNamespace(number=7, published_at=now, created_at=now, summary={})
    invoice = SimpleNamespace(number="INV-2026-000001", kind="invoice", issued_at=now, credited=None,
                              gross=2490, net=2075, vat=415, vat_rate=20, currency="eur")
    report = SimpleNamespace(pk=1, text="No camera near Lyon.", outcome="repackaged", staff_note="Fixed.",
                             created_at=now, answer="Fixed.")
    return {"order": order, "device": DEVICES[0], "site": "https://shop.example", "panel_url": "https://shop.example/a/",
            "amount": "€24.90", "update_months": 1, "order_number": "3F2A9C1B", "coverage_name": "France",
            "order_url": "https://shop.example/o/", "key": "7", "download_url": "https://shop.example/d/",
            "filename": "file.zip", "cameras": 1234, "size": 123456, "file_release": release, "attached": True,
            "link_days": 7, "release": release, "password": "secret-pw", "login": order.email, "end": now,
            "annual_price": "€29.90", "latest": release, "updates_until": now, "updates_included": True,
            "report": report, "invoice": invoice, "total": "€24.90", "refund": "€24.90", "net": "€20.75",
            "vat": "€4.15", "rate": "20 %", "lines": [{"description": "File", "amount": "€24.90"}],
            "message": SimpleNamespace(name="Lea", message="Hello", answer="Hi", callback=True, phone="1",
                                       preferred_time="noon", created_at=now),
            "name": "Lea", "answer": "Hi"}


def rendered(name, context):
    out = render_to_string(f"portal/email/{name}", context)
    return html_segments(out) if name.endswith(".html") else text_segments(out)


def test_every_email_has_no_english_left(site):
    context = email_context(site.order)
    names = sorted(p.name for p in EMAILS.iterdir() if p.suffix in (".txt", ".html"))
    assert len(names) >= 30
    left = {}
    english = {name: rendered(name, context) for name in names}
    for code in LANGUAGES:
        with translation.override(code):
            for name in names:
                same = untranslated(english[name], rendered(name, context))
                if same:
                    left[f"{code} {name}"] = same
    assert not left, report("emails", left)
