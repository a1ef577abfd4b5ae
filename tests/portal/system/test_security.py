"""The security sweep of issue 7: forged webhooks, CSRF, every customer URL tried by another
customer, login brute force, oversized uploads, XML bombs, path tricks in download names.

Where it can, the sweep is generated: URL patterns from the root URL resolver (a new URL
with an identifier, or a new POST endpoint, is swept without editing this file, and an
identifier it does not know how to forge fails the test), feed readers from the reader
registry. What other tests already prove exactly is not repeated here:

- webhook with an empty or garbage signature, another secret, a timestamp an hour old ->
  400 and nothing stored: test_shop_flow.py::test_a_webhook_with_a_bad_signature_is_400_and_changes_nothing;
  a replayed event and a second event for the same payment -> one fulfilment, two emails:
  test_shop_flow.py::test_a_signed_payment_event_fulfils_the_order_once; a forged event
  against the live server: test_shop_stripe.py::test_a_forged_webhook_is_refused;
- shop download links: a tampered signature -> 404 and an expired one -> 410 with the way
  to the panel: test_shop_flow.py::test_download_links_are_signed_and_expire and
  ::test_an_expired_link_says_where_to_get_the_file; a refunded order's link -> 404:
  ::test_a_refund_event_revokes_the_downloads and test_reports.py (refund from the admin);
- login limits per email (any case) and per IP, the lock message, reset without account
  enumeration and its limits: test_panel_security.py;
- screenshots over REPORT_MAX_BYTES (400 with the limit), bodies over it (413), files that
  are not PNG/JPEG whatever their name: test_reports.py;
- billion laughs and a SYSTEM entity in each XML reader by name, an OSM external DTD:
  test_readers_xml.py; GPX routes with entities, over the size and point limits (limits
  patched small): test_coverage.py.
"""

import hashlib
import io
import json
import re
import struct
import time
import tracemalloc
import uuid
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail, signing
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cameras.coverage import routes
from cameras.coverage import CoverageError, read_gpx_route
from cameras.formats.base import FormatError, Rejection, load_readers
from cameras.models import Camera, ImportRun
from exporters.devices import DEVICES
from portal.services import fulfilment, invoices, links, purchases as panel
from portal.models import Download, EmailRecord, ErrorReport, Order, StripeEvent, User
from portal.services.packages import download_filename, ensure_package, order_spec, package_filename, store_path
from portal.lib.ratelimit import client_ip
from tests.cameras.formats.test_readers_xml import BOMB, BOMB_BODIES

from tests.portal.panelkit import PASSWORD, body, customer, first_release, paid_order
from tests.portal.views.test_shop import SECRET, event, new_order, post_event, sign, succeeded

pytestmark = pytest.mark.django_db

OWNER_EMAIL = "owner@example.com"


@pytest.fixture(autouse=True)
def _security_settings(settings, tmp_path, local_cache):
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://shop.example"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.LOGIN_FAILURES_PER_EMAIL = 5
    settings.LOGIN_FAILURES_PER_IP = 5
    settings.LOGIN_RATE_WINDOW = 15 * 60
    settings.CLIENT_IP_HEADER = ""


# ---------------------------------------------------------------------------------------
# the URL configuration, walked


def url_patterns(patterns=None, prefix="", namespace=None):
    """(route, namespace, name, parameter names, callback) of every URL pattern of the site."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield (prefix + str(entry.pattern), namespace, entry.name, tuple(entry.pattern.regex.groupindex),
                   entry.callback)


def site_patterns():
    """The site's own patterns (not the admin's), one per route (aliases dropped)."""
    seen = {}
    for route, namespace, name, params, callback in url_patterns():
        if namespace != "admin" and route not in seen:
            seen[route] = (route, name, params, callback)
    return list(seen.values())


# Parameters that are public catalog values, not a customer's objects.
PUBLIC_PARAMS = {"device_id", "language"}  # the same for everyone: not an identifier


def retarget(token: str, old: str, new: str) -> str:
    """A signed token whose value names another order, with the old signature kept."""
    value, _, rest = token.partition(":")
    assert value == old, token
    return f"{new}:{rest}"


class Customers:
    """Customer A (the victim) and customer B (the attacker), each with a paid purchase
    whose file is in the package store, and the forged identifiers B would try."""

    def __init__(self, release):
        self.a, self.b = customer(OWNER_EMAIL), customer("eve@example.com", password="eve-password-77")
        self.order_a = self._order(self.a, release)
        self.order_b = self._order(self.b, release)
        self.stored = panel.file_state(self.order_a, queue=False).file
        self.invoice_a = invoices.issue_purchase(self.order_a)  # A's invoice PDF: B must get 404

    @staticmethod
    def _order(user, release):
        order = paid_order(user, coverage=["FR"])
        stored = ensure_package(*order_spec(order), release=release)
        Order.objects.filter(pk=order.pk).update(package_key=stored.key, release=release, package_bytes=stored.size)
        order.refresh_from_db()
        return order

    def uid(self, user):
        return urlsafe_base64_encode(force_bytes(user.pk))

    def owner_kwargs(self, name, params):
        """A's own, genuine identifiers for this pattern (what A's links carry)."""
        a, stored = self.order_a, panel.file_state(self.order_a, queue=False).file
        values = {"public_id": a.public_id, "device_id": a.device_id, "uidb64": self.uid(self.a),
                  "invoice_id": self.invoice_a.public_id,
                  "token": {"download-panel": links.panel_token(a, stored) if stored else "",
                            "download-link": links.download_token(a, a.package_key),
                            "accounts-password-reset-confirm": default_token_generator.make_token(self.a)}.get(name)}
        return {p: values[p] for p in params}

    def attack_kwargs(self, name, params):
        """What B can put into this pattern to reach A's objects: A's order id (from a
        shared screen or a guess), A's leaked panel link, B's own shop link re-pointed at
        A's order, B's own reset token with A's user id."""
        a, b = self.order_a, self.order_b
        stored_b = panel.file_state(b, queue=False).file
        tokens = {
            "download-panel": links.panel_token(a, self.stored),
            "download-link": retarget(links.download_token(b, b.package_key), str(b.public_id), str(a.public_id)),
            "accounts-password-reset-confirm": default_token_generator.make_token(self.b),
        }
        assert stored_b is not None
        values = {"public_id": a.public_id, "device_id": a.device_id, "uidb64": self.uid(self.a),
                  "invoice_id": self.invoice_a.public_id, "token": tokens.get(name)}
        missing = [p for p in params if values.get(p) is None]
        assert not missing, (f"URL {name!r} takes {missing}: teach the security sweep how another customer would "
                             f"forge it (Customers.attack_kwargs) and what they must get")
        return {p: values[p] for p in params}


@pytest.fixture
def release(tmp_path):
    return first_release(tmp_path, cameras=300)


@pytest.fixture
def people(release):
    return Customers(release)


def invalid_reset_page(response) -> bool:
    return response.status_code == 200 and 'data-testid="invalid-link"' in response.content.decode()


def refused(response, login_redirect_ok=False) -> bool:
    if response.status_code == 404:
        return True
    if login_redirect_ok and response.status_code == 302:
        return response["Location"].startswith(reverse("accounts-login"))
    return False


def no_leak(response, people):
    text = (body(response) if response.status_code == 200 else response.content).decode(errors="replace")
    for secret in (OWNER_EMAIL, str(people.order_a.public_id)):
        assert secret not in text, f"{secret} leaked into {response.request['PATH_INFO']}"


ATTACK_POST = {"codes": ["BE"], "icons": "fr-danger", "text": "spam", "on": "1",
               "new_password1": "x-evil-pass-99", "new_password2": "x-evil-pass-99"}


def test_every_url_with_an_identifier_is_404_for_another_customer_and_closed_to_visitors(people, client):
    """All URL modules, generated from the resolver (extends the sweep test_panel_security
    had for portal.panel_urls): B gets 404 (never 403 or 200) on A's objects with GET and
    POST, nothing of A in the body; a visitor gets the login page or 404; A gets the page."""
    patterns = [(route, name, params) for route, name, params, _ in site_patterns()
                if set(params) - PUBLIC_PARAMS]
    assert {"panel-order", "download-panel", "panel-report", "shop-order", "shop-order-pay", "download-link",
            "accounts-password-reset-confirm"} <= {name for _, name, _ in patterns}
    owner, eve, anonymous = Client(), Client(), Client()
    owner.force_login(people.a)
    eve.force_login(people.b)
    for route, name, params in patterns:
        assert name, f"{route}: a URL with an identifier needs a name to be swept"
        owner_url = reverse(name, kwargs=people.owner_kwargs(name, params))
        url = reverse(name, kwargs=people.attack_kwargs(name, params))
        query = {"codes": ["FR"]}
        assert owner.get(owner_url, query).status_code in (200, 302, 405), owner_url   # the URL is real
        for response in (eve.get(url, query), eve.post(url, ATTACK_POST)):
            if name == "accounts-password-reset-confirm":
                assert invalid_reset_page(response), url
            else:
                assert response.status_code == 404, (url, response.status_code)
            no_leak(response, people)
        for response in (anonymous.get(url, query), anonymous.post(url, ATTACK_POST)):
            if name == "accounts-password-reset-confirm":
                assert invalid_reset_page(response), url
            else:
                assert refused(response, login_redirect_ok=True), (url, response.status_code)
            no_leak(response, people)
    # the panel's selector parameter too, and a malformed id
    assert eve.get(reverse("panel-home"), {"order": str(people.order_a.public_id)}).status_code == 404
    assert eve.get(reverse("panel-home"), {"order": "not-a-uuid"}).status_code == 404
    # nothing of A's changed: coverage, icons, renewal settings, reports, password, downloads
    a = Order.objects.get(pk=people.order_a.pk)
    assert (a.coverage, a.icons, a.status, a.subscription_status) == (["FR"], "speed", Order.Status.PAID,
                                                                      people.order_a.subscription_status)
    assert not ErrorReport.objects.exists()
    assert User.objects.get(pk=people.a.pk).check_password(PASSWORD)
    assert Download.objects.filter(order=a).count() == 2           # A's own two downloads, not B's tries
    # the pages without an identifier show B nothing of A's
    for route, name, params, _ in site_patterns():
        if set(params) - PUBLIC_PARAMS or name == "webhook-stripe":
            continue
        kwargs = {p: "fr" if p == "language" else people.order_b.device_id for p in params}
        response = eve.get(reverse(name, kwargs=kwargs), follow=True)
        assert response.status_code in (200, 400, 405), (name, response.status_code)
        no_leak(response, people)


def test_the_admin_sends_a_customer_to_its_login_on_every_url(people):
    eve = Client()
    eve.force_login(people.b)
    admin_login = reverse("admin:login")
    values = {"object_id": str(people.order_a.pk), "id": str(people.a.pk), "content_type_id": "1",
              "app_label": "portal"}
    checked = 0
    for route, namespace, name, params, _ in url_patterns():
        if namespace != "admin" or not name or name in ("login", "logout", "jsi18n"):
            continue
        url = reverse(f"admin:{name}", kwargs={p: values[p] for p in params})
        response = eve.get(url)
        assert response.status_code == 302 and response["Location"].startswith(admin_login), (url, response.status_code)
        checked += 1
    assert checked > 30


def test_signed_links_work_for_their_own_order_only(people, settings):
    a, b = people.order_a, people.order_b
    eve = Client()
    eve.force_login(people.b)
    stored_b = panel.file_state(b, queue=False).file
    # B's panel link for B's order works; A's link on B's order URL, and B's link re-pointed, do not
    assert eve.get(links.panel_url(b, stored_b)).status_code == 200
    a_token = links.panel_token(a, people.stored)
    assert eve.get(reverse("download-panel", args=[b.public_id, a_token])).status_code == 404
    forged = retarget(links.panel_token(b, stored_b), str(b.public_id), str(a.public_id))
    owner = Client()
    owner.force_login(people.a)
    assert owner.get(reverse("download-panel", args=[a.public_id, forged])).status_code == 404
    # a shop link is not a panel link (another salt), and the other way round
    shop_token = links.download_token(b, b.package_key)
    assert eve.get(reverse("download-panel", args=[b.public_id, shop_token])).status_code == 404
    assert eve.get(reverse("download-link", args=[links.panel_token(b, stored_b)])).status_code == 404
    # an expired panel link sends the owner back to the panel for a fresh one, no file
    settings.PANEL_DOWNLOAD_LINK_MAX_AGE = -1
    expired = eve.get(links.panel_url(b, stored_b))
    settings.PANEL_DOWNLOAD_LINK_MAX_AGE = 3600
    assert expired.status_code == 302 and expired["Location"] == reverse("panel-order", args=[b.public_id])
    # a refunded order: both kinds of link refused
    link, panel_link = links.download_url(b, b.package_key), links.panel_url(b, stored_b)
    fulfilment.refunded(b.pk)
    assert Client().get(link).status_code == 404
    assert eve.get(panel_link).status_code == 404
    assert Download.objects.filter(order=a).count() == 0


# ---------------------------------------------------------------------------------------
# CSRF


def csrf_exempt_views():
    return sorted(name for _, name, _, callback in site_patterns() if getattr(callback, "csrf_exempt", False))


def test_every_post_endpoint_refuses_a_post_without_the_csrf_token(people):
    """Every URL of the site, generated from the resolver, logged in and anonymous: a POST
    without the token is 403 before any view runs; the Stripe webhook is the only exempt
    view. Then the same form with the page's token goes through (the check is not just
    refusing everything)."""
    assert csrf_exempt_views() == ["webhook-stripe"]
    assert not [name for _, _, name, _, cb in url_patterns() if getattr(cb, "csrf_exempt", False)
                and name != "webhook-stripe"], "an admin view is csrf_exempt"
    b = people.order_b
    browser, visitor = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    browser.force_login(people.b)
    stored_b = panel.file_state(b, queue=False).file
    values = {"public_id": b.public_id, "device_id": b.device_id, "uidb64": people.uid(people.b),
              "token": links.panel_token(b, stored_b), "invoice_id": people.invoice_a.public_id, "language": "fr"}
    data = dict(ATTACK_POST, username=people.b.email, password="eve-password-77", email=people.b.email,
                old_password="eve-password-77", coverage="FR")
    swept = []
    for route, name, params, _ in site_patterns():
        if name == "webhook-stripe":
            continue
        url = reverse(name, kwargs={p: values[p] for p in params})
        for who in (browser, visitor):
            response = who.post(url, data)
            assert response.status_code == 403, (url, response.status_code)
            assert b"CSRF" in response.content
        swept.append(name)
    assert {"accounts-login", "accounts-logout", "accounts-password-change", "accounts-password-reset",
            "accounts-password-reset-confirm", "shop-checkout-start", "shop-order-pay", "panel-coverage", "panel-icons",
            "panel-report", "panel-upgrade"} <= set(swept)
    b.refresh_from_db()
    assert (b.coverage, b.icons) == (["FR"], "speed") and not ErrorReport.objects.exists()
    assert Order.objects.count() == 2 and len(mail.outbox) == 0
    assert User.objects.get(pk=people.b.pk).check_password("eve-password-77")
    assert browser.get(reverse("panel-home")).status_code == 200        # the logout was refused too
    # with the token from the page, the same form goes through
    page = browser.get(reverse("panel-order", args=[b.public_id])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(reverse("panel-icons", args=[b.public_id]),
                            {"icons": "fr-danger", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.icons == "fr-danger"


def test_the_webhook_is_csrf_exempt_and_guarded_by_its_signature_instead():
    order = new_order()
    stripe_client = Client(enforce_csrf_checks=True)    # Stripe has no CSRF cookie
    payload = succeeded(order)
    assert post_event(stripe_client, payload).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    other = new_order(payment_intent="pi_999")
    forged = succeeded(other, event_id="evt_forged")
    assert post_event(stripe_client, forged, signature="").status_code == 400
    other.refresh_from_db()
    assert other.status == Order.Status.PENDING


# ---------------------------------------------------------------------------------------
# forged webhooks


def assert_nothing_fulfilled(order):
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.fulfilled_at is None and order.user is None
    assert not StripeEvent.objects.exists() and not EmailRecord.objects.exists()
    assert not User.objects.exists() and mail.outbox == []


def payment(order, **fields) -> dict:
    obj = {"id": order.payment_intent, "object": "payment_intent", "status": "succeeded", "amount": order.amount,
           "amount_received": order.amount, "currency": order.currency, "metadata": {"order": str(order.public_id)}}
    obj.update(fields)
    return obj


def test_a_webhook_without_a_signature_header_is_refused(client):
    order = new_order()
    response = client.post(reverse("webhook-stripe"), data=succeeded(order), content_type="application/json")
    assert response.status_code == 400 and b"signature" in response.content.lower()
    assert_nothing_fulfilled(order)


def test_a_valid_signature_for_another_body_is_refused(client):
    order = new_order()
    genuine = event("payment_intent.succeeded", payment(order, id="pi_123", amount=1, amount_received=1,
                                                        metadata={"order": str(uuid.uuid4())}))
    tampered = genuine.replace(b'"amount": 1,', f'"amount": {order.amount},'.encode()).replace(
        json.loads(genuine)["data"]["object"]["metadata"]["order"].encode(), str(order.public_id).encode())
    assert tampered != genuine
    for payload in (tampered, genuine + b" ", genuine.replace(b"evt_1", b"evt_2")):
        assert post_event(client, payload, sign(genuine)).status_code == 400
    assert_nothing_fulfilled(order)


def test_a_webhook_is_refused_when_no_secret_is_configured(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    order = new_order()
    payload = event("payment_intent.succeeded", payment(order))
    assert post_event(client, payload, sign(payload, secret="")).status_code == 400
    assert_nothing_fulfilled(order)


def test_a_timestamp_just_past_the_tolerance_is_refused(client):
    order = new_order()
    payload = event("payment_intent.succeeded", payment(order))
    assert post_event(client, payload, sign(payload, timestamp=int(time.time()) - 301)).status_code == 400
    assert_nothing_fulfilled(order)


@pytest.mark.parametrize("fields, reason", [
    ({"id": "pi_not_ours"}, "is not the payment of order"),
    ({"amount": 1, "amount_received": 1}, "is not the amount"),
    ({"currency": "usd"}, "is not the currency"),
    ({"customer": "cus_someone_else"}, "is not the customer"),
    ({"metadata": {"order": "../../not-a-uuid"}}, "not one of ours"),
])
def test_a_signed_event_that_does_not_match_its_order_fulfils_nothing(client, fields, reason):
    order = new_order(stripe_customer="cus_ours")
    payload = event("payment_intent.succeeded", payment(order, **fields))
    response = post_event(client, payload)
    assert response.status_code == 400 and reason in response.content.decode()
    assert_nothing_fulfilled(order)
    # the matching event is accepted (so the refusal above is about the mismatch)
    assert post_event(client, event("payment_intent.succeeded", payment(order, customer="cus_ours"))).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_refund_event_for_another_payment_does_not_revoke_the_order(client):
    order = new_order(status=Order.Status.PAID)
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_not_ours",
              "metadata": {"order": str(order.public_id)}}
    assert post_event(client, event("charge.refunded", charge, "evt_refund")).status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and not StripeEvent.objects.exists()


# ---------------------------------------------------------------------------------------
# login brute force (the per-email and per-IP limits themselves: test_panel_security.py)


def login(client, email, password, ip="10.0.0.1", **headers):
    return client.post(reverse("accounts-login"), {"username": email, "password": password}, REMOTE_ADDR=ip, **headers)


SPELLINGS = [" LEA@example.com", "lea@EXAMPLE.com\t", "\uff4c\uff45\uff41@example.com", "Lea@Example.Com",
             "ＬＥＡ@ｅｘａｍｐｌｅ.ｃｏｍ"]


def test_every_spelling_of_an_address_that_logs_in_counts_against_the_same_lock(client):
    customer("lea@example.com")
    for n, spelling in enumerate(SPELLINGS):       # each of them reaches the account...
        assert login(client, spelling, PASSWORD, ip=f"10.4.0.{n}").status_code == 302, spelling
        client.logout()
    cache.clear()
    for n, spelling in enumerate(SPELLINGS):       # ...so each failure counts on its one lock
        login(client, spelling, "wrong", ip=f"10.5.0.{n}")
    response = login(client, "lea@example.com", PASSWORD, ip="10.6.0.1")
    assert response.status_code == 429 and "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    for junk in ("lea\x00@example.com", "x" * 300 + "@example.com"):    # refused names are a form error, not 500
        assert login(client, junk, "wrong", ip="10.6.0.2").status_code == 200


def test_forwarded_headers_from_the_client_do_not_reset_the_ip_lock(client, settings):
    customer("lea@example.com")
    for n in range(5):             # no proxy configured: the headers are the client's own words
        login(client, f"guess{n}@example.com", "wrong", ip="203.0.113.5",
              HTTP_X_FORWARDED_FOR=f"198.51.100.{n}", HTTP_X_REAL_IP=f"198.51.100.{n}")
    assert login(client, "lea@example.com", PASSWORD, ip="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.77",
                 HTTP_X_REAL_IP="192.0.2.77").status_code == 429
    # behind a proxy that appends to X-Forwarded-For: what the client wrote on the left is ignored
    cache.clear()
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    for n in range(5):
        login(client, f"guess{n}@example.com", "wrong", ip="127.0.0.1",
              HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 198.51.100.7")
    assert login(client, "lea@example.com", PASSWORD, ip="127.0.0.1",
                 HTTP_X_FORWARDED_FOR="10.9.9.99, 198.51.100.7").status_code == 429
    assert login(client, "lea@example.com", PASSWORD, ip="127.0.0.1",
                 HTTP_X_FORWARDED_FOR="10.9.9.1, 198.51.100.8").status_code == 302      # another client


@pytest.mark.parametrize("header, hops, meta, expected", [
    ("", 1, {"HTTP_X_FORWARDED_FOR": "1.1.1.1", "HTTP_X_REAL_IP": "2.2.2.2"}, "203.0.113.5"),
    ("HTTP_X_REAL_IP", 1, {"HTTP_X_REAL_IP": "198.51.100.7"}, "198.51.100.7"),
    ("HTTP_X_REAL_IP", 1, {}, "203.0.113.5"),
    ("HTTP_X_FORWARDED_FOR", 1, {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7"}, "198.51.100.7"),
    ("HTTP_X_FORWARDED_FOR", 2, {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7, 10.0.0.2"}, "198.51.100.7"),
    ("HTTP_X_FORWARDED_FOR", 2, {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}, "203.0.113.5"),
])
def test_the_client_address_is_the_one_the_trusted_proxies_saw(settings, header, hops, meta, expected):
    settings.CLIENT_IP_HEADER, settings.CLIENT_IP_PROXY_COUNT = header, hops
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5", **meta)
    assert client_ip(request) == expected


def test_guessing_password_reset_tokens_is_futile_and_limited(client, settings):
    settings.PASSWORD_RESET_TOKEN_FAILURES_PER_IP = 5
    lea, eve = customer("lea@example.com"), customer("eve@example.com", password="eve-password-77")
    uid = urlsafe_base64_encode(force_bytes(lea.pk))
    guesses = [default_token_generator.make_token(eve),                 # Eve's own token on Lea's account
               "cxyz12-" + "0" * 32, "set-password", "..", "x" * 200]
    unknown = client.get(reverse("accounts-password-reset-confirm", args=[urlsafe_base64_encode(b"99999"), "a-b"]),
                         REMOTE_ADDR="10.7.0.1")
    for guess in guesses[:-1]:
        response = client.get(reverse("accounts-password-reset-confirm", args=[uid, guess]), REMOTE_ADDR="10.7.0.1")
        assert invalid_reset_page(response), guess
        assert response.content == unknown.content            # an existing account looks like any other id
    genuine = reverse("accounts-password-reset-confirm", args=[uid, default_token_generator.make_token(lea)])
    locked = client.get(genuine, REMOTE_ADDR="10.7.0.1")       # past the limit even the right token waits
    assert locked.status_code == 429 and "Please try again in 60 minutes" in locked.content.decode()
    assert client.post(genuine, {"new_password1": "z-new-pass-55", "new_password2": "z-new-pass-55"},
                       REMOTE_ADDR="10.7.0.1").status_code == 429
    lea.refresh_from_db()
    assert lea.check_password(PASSWORD)
    assert client.get(genuine, REMOTE_ADDR="10.7.0.2").status_code == 302     # the owner, elsewhere: fine


# ---------------------------------------------------------------------------------------
# oversized requests


def test_a_webhook_body_over_the_upload_limit_is_refused_before_reading(client, settings):
    order = new_order()
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    payload = event("payment_intent.succeeded", payment(order, description=padding))
    response = post_event(client, payload)
    assert response.status_code == 400
    assert_nothing_fulfilled(order)


def test_too_many_fields_or_files_are_a_400_and_nothing_is_saved(people, settings):
    eve = Client()
    eve.force_login(people.b)
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert eve.post(reverse("accounts-login"), dict(fields, username="eve@example.com", password="x")).status_code == 400
    start = reverse("shop-checkout-start", args=["tomtom-go-classic"])
    assert eve.post(start, dict(fields, email="x@example.com")).status_code == 400
    report_url = reverse("panel-report", args=[people.order_b.public_id])
    assert eve.post(report_url, dict(fields, text="crash")).status_code == 400
    files = {f"shot{i}": io.BytesIO(b"x") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)}
    for name, handle in files.items():
        handle.name = f"{name}.png"
    assert eve.post(report_url, dict(files, text="crash")).status_code == 400
    # a text field over DATA_UPLOAD_MAX_MEMORY_SIZE (the report's own 413 check lifted)
    settings.REPORT_MAX_BYTES = 10 * 1024 * 1024
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert eve.post(report_url, {"text": big}).status_code == 400
    assert eve.post(start, {"email": "x@example.com", "coverage": big}).status_code == 400
    assert not ErrorReport.objects.exists() and Order.objects.count() == 2


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_decompression_bomb_screenshot_is_refused_without_decoding_it(people):
    # Refused from its header: the pixels are never allocated (the memory peak says so; the
    # time it takes is measured in benchmarks/bench_security.py).
    from django.core.files.uploadedfile import SimpleUploadedFile

    eve = Client()
    eve.force_login(people.b)
    bomb = png_header(60_000, 60_000)          # 3.6 gigapixels in 100 bytes
    assert len(bomb) < 200
    tracemalloc.start()
    try:
        response = eve.post(reverse("panel-report", args=[people.order_b.public_id]),
                            {"text": "crash", "screenshot": SimpleUploadedFile("s.png", bomb, "image/png")})
        assert tracemalloc.get_traced_memory()[1] < 64 * 1024 * 1024
    finally:
        tracemalloc.stop()
    assert response.status_code == 400 and "could not be read as an image" in response.content.decode()
    assert not ErrorReport.objects.exists()


def test_a_route_over_20_mb_is_refused_before_parsing():
    """No web page takes a GPX upload (routes come through `manage.py export/coverage
    --route`); the reader every route goes through refuses 20 MB + 1 byte at once."""
    assert routes.MAX_ROUTE_BYTES == 20 * 1024 * 1024
    data = b"<gpx>" + b"<!-- -->" * (routes.MAX_ROUTE_BYTES // 8)
    # (a parser would fail otherwise: the <gpx> is never closed; the time: benchmarks/bench_security.py)
    with pytest.raises(CoverageError, match=r"too large for a route \(at most 20 MB\)"):
        read_gpx_route(data, "huge.gpx")


# ---------------------------------------------------------------------------------------
# XML bombs: every feed reader of the registry, GPX routes, the import command


SECRET_FILE_TEXT = "root:x:0:0:TOP-SECRET"

PROLOGUES = {
    "billion laughs": BOMB,
    "external entity": '<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY lol9 SYSTEM "{uri}"> ]>\n',
    "parameter entity": '<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY % p SYSTEM "{uri}"> %p; ]>\n',
    "external DTD": '<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "{uri}">\n',
    "public DTD": '<?xml version="1.0"?>\n<!DOCTYPE x PUBLIC "-//evil//x" "{uri}">\n',
}


def hostile_files(tmp_path):
    """(label, path) of every hostile prologue in front of every XML feed's body."""
    secret = tmp_path / "passwd"
    secret.write_text(SECRET_FILE_TEXT)
    out = []
    for fmt, xml_body in sorted(BOMB_BODIES.items()):
        for label, prologue in PROLOGUES.items():
            text = prologue.replace("{uri}", secret.as_uri())
            if label in ("parameter entity", "external DTD", "public DTD"):
                xml_body_here = xml_body.replace("&lol9;", "x")
            else:
                xml_body_here = xml_body
            path = tmp_path / f"{fmt}-{label.replace(' ', '-')}.xml"
            path.write_text(text + xml_body_here)
            out.append((f"{fmt} / {label}", path))
    return out


def test_every_xml_reader_of_the_registry_is_in_the_bomb_sweep(tmp_path):
    """A reader that claims any XML feed must have its body in BOMB_BODIES (so the bombs
    below reach its element handling); a new XML reader fails here until it is added."""
    readers = load_readers()
    for fmt, xml_body in BOMB_BODIES.items():
        head = ('<?xml version="1.0"?>\n' + xml_body).encode()
        claimed = {name for name, reader in readers.items() if reader.sniff(head, tmp_path / "x.xml") > 0}
        assert claimed <= set(BOMB_BODIES), f"{claimed - set(BOMB_BODIES)} read XML: add a body to BOMB_BODIES"
    for name, reader in readers.items():
        if any(ext in (".xml", ".gpx", ".kml", ".osm") for ext in reader.extensions):
            assert name in BOMB_BODIES, f"{name} reads {reader.extensions}: add a body to BOMB_BODIES"


def test_every_reader_refuses_every_xml_bomb_without_expanding_or_reading_the_entity(tmp_path):
    # Nothing expanded: the memory peak stays small (the time each refusal takes is measured
    # in benchmarks/bench_security.py, not asserted here).
    readers = load_readers()
    tracemalloc.start()
    try:
        for label, path in hostile_files(tmp_path):
            for name, reader in sorted(readers.items()):
                try:
                    items = list(reader.read(path))
                except FormatError as exc:
                    message = str(exc)
                    if name in BOMB_BODIES and path.name.startswith(name):
                        assert "refused: the XML" in message, (label, name, message)
                else:
                    assert all(isinstance(i, Rejection) for i in items), (label, name)
                    message = " ".join(str(i) for i in items)
                assert "TOP-SECRET" not in message and "lollollol" not in message, (label, name)
        assert tracemalloc.get_traced_memory()[1] < 64 * 1024 * 1024
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("label", sorted(PROLOGUES))
def test_a_gpx_route_with_entities_or_an_external_dtd_is_refused(label, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text(SECRET_FILE_TEXT)
    name = "x" if label in ("parameter entity", "external DTD", "public DTD") else "&lol9;"
    data = (PROLOGUES[label].replace("{uri}", secret.as_uri())
            + f'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>{name}</name>'
              '<trkseg><trkpt lat="48" lon="2"/><trkpt lat="48.1" lon="2.1"/></trkseg></trk></gpx>').encode()
    tracemalloc.start()
    try:
        with pytest.raises(CoverageError, match="which a GPX file never needs") as err:
            read_gpx_route(data, "route.gpx")
        assert tracemalloc.get_traced_memory()[1] < 64 * 1024 * 1024   # nothing expanded
    finally:
        tracemalloc.stop()
    assert "TOP-SECRET" not in str(err.value)


def test_the_import_command_refuses_a_bomb_and_imports_nothing(tmp_path):
    good = tmp_path / "good.kml"
    placemark = ('<Placemark><name>max@{speed}</name><Point><coordinates>2.{n}5,48.85</coordinates></Point>'
                 '</Placemark>')
    kml = '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{}</Document></kml>'
    good.write_text(kml.format("".join(placemark.format(speed=50, n=n) for n in range(3))))
    call_command("import_cameras", str(good), "--source", "feed", verbosity=0)
    before = (Camera.objects.filter(status=Camera.Status.ACTIVE).count(), ImportRun.objects.count())
    assert before == (3, 1)
    bomb = tmp_path / "bomb.kml"
    bomb.write_text(BOMB + kml.format("".join(placemark.format(speed=90, n=n) for n in range(3))
                                       .replace("max@90", "&lol9;", 1)))
    # good placemarks first, then XML that breaks: the stream fails after records were read
    broken = tmp_path / "broken.kml"
    broken.write_text(kml.format("".join(placemark.format(speed=90, n=n) for n in range(3))
                                 + "<Placemark><name>&undefined;</name></Placemark>"))
    for path, message in ((bomb, "refused: the XML declares entities"), (broken, "not well-formed XML")):
        for fmt in ("auto", "kml"):
            with pytest.raises(CommandError, match=message):
                call_command("import_cameras", str(path), "--source", "feed", "--format", fmt, "--skip-invalid",
                             verbosity=0)
    assert (Camera.objects.filter(status=Camera.Status.ACTIVE).count(), ImportRun.objects.count()) == before
    assert set(Camera.objects.values_list("speed", flat=True)) == {50}


# ---------------------------------------------------------------------------------------
# path tricks in download names


TRICKS = ["..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%252f..%252fetc%252fpasswd",
          "%2Fetc%2Fpasswd", "..%5C..%5Cwindows%5Cwin.ini", "abc%00def", "%00", "....//....//etc/passwd",
          "..", "."]
BAD_KEYS = ["../../../etc/passwd", "/etc/passwd", "..", "..\\..\\passwd", "0" * 63, "0" * 65, "A" * 64,
            "0" * 62 + "/x", "0" * 63 + "\x00", "0" * 64 + "\n", "../" + "0" * 61, "", "g" * 64]


def test_path_tricks_in_download_urls_are_404_and_never_a_file_outside_the_store(people, settings, tmp_path):
    outside = Path(settings.PACKAGES_DIR).parent / "passwd.zip"
    outside.write_bytes(b"PK-TOP-SECRET")
    eve = Client()
    eve.force_login(people.b)
    b = people.order_b
    prefixes = [reverse("download-link", args=["TOKEN"]), reverse("download-panel", args=[b.public_id, "TOKEN"])]
    for prefix in prefixes:
        for trick in TRICKS:
            response = eve.get(prefix.replace("TOKEN", trick))
            assert response.status_code == 404, (prefix, trick, response.status_code)
            assert b"TOP-SECRET" not in response.content
    # values signed with the real secret (a bug or a leaked key) that are not package keys
    signer = signing.TimestampSigner(salt=links.OLD_SALTS[links.PANEL])
    for key in BAD_KEYS:
        shop_token, panel_token = links.download_token(b, key), signer.sign(f"{b.public_id}:{key}:1")
        shop = eve.get(prefixes[0].replace("TOKEN", quote(shop_token, safe="")))
        in_panel = eve.get(prefixes[1].replace("TOKEN", quote(panel_token, safe="")))
        for response in (shop, in_panel):
            assert response.status_code == 404, (repr(key), response.status_code)
            assert b"TOP-SECRET" not in response.content
    assert not Download.objects.exists()


def test_store_path_accepts_only_hex_digests_inside_the_store(settings):
    store = Path(settings.PACKAGES_DIR).resolve()
    for key in BAD_KEYS + [None, 12, "0" * 32 + "/../" + "0" * 28]:
        with pytest.raises(ValueError):
            store_path(key)
    good = hashlib.sha256(b"x").hexdigest()
    assert store_path(good).resolve().is_relative_to(store)


HOSTILE_NAMES = ['x"; filename="evil.exe', "tomtom\r\nSet-Cookie: session=stolen", "../../etc/passwd",
                 "..", "", "caf\u00e9 \u202eexe.zip", "a" * 300, "a\\b", "tomtom;name=*"]


@pytest.mark.parametrize("device_id", HOSTILE_NAMES)
def test_download_file_names_cannot_inject_into_the_header(device_id):
    for release_number in (None, 7, "7\r\nX: 1"):
        name = download_filename(device_id, release_number)
        assert re.fullmatch(r"speedcams-[A-Za-z0-9._-]{1,64}(-r[A-Za-z0-9._-]+)?\.zip", name), name


def test_every_catalog_device_gets_a_plain_file_name(release):
    for device in DEVICES:
        assert package_filename(device, release) == f"speedcams-{device.id}-r{release.number}.zip"


def test_a_hostile_device_id_in_an_order_never_reaches_the_content_disposition(people, release):
    """Order data (here a device id written into the database by hand) is cleaned before it
    becomes the download's file name, in the shop link and in the panel."""
    b = people.order_b
    hostile = 'x"\r\nSet-Cookie: session=stolen; filename="evil.exe'
    Order.objects.filter(pk=b.pk).update(device_id=hostile, package_key="")   # the link is to an older file
    b.refresh_from_db()
    key = hashlib.sha256(b"an older file").hexdigest()
    store_path(key).parent.mkdir(parents=True, exist_ok=True)
    store_path(key).write_bytes(b"PK older")
    response = Client().get(links.download_url(b, key))
    eve = Client()
    eve.force_login(people.b)
    signer = signing.TimestampSigner(salt=links.OLD_SALTS[links.PANEL])
    in_panel = eve.get(reverse("download-panel", args=[b.public_id, signer.sign(f"{b.public_id}:{key}:1")]))
    for response in (response, in_panel):
        assert response.status_code == 200 and body(response) == b"PK older"
        disposition = response["Content-Disposition"]
        assert re.fullmatch(r'attachment; filename="speedcams-[A-Za-z0-9._-]+\.zip"', disposition), disposition
        assert "Set-Cookie" not in response.headers and not response.cookies.get("session")
