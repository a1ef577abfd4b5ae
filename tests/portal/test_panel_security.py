"""The panel's defences: login rate limits, password reset without account enumeration,
password change, every purchase URL filtered by owner (an outsider gets 404 on each URL
of ``portal.panel_urls``), CSRF on every form, secure cookies in production settings."""

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from portal import panel_urls
from portal.models import Download

from .panelkit import PASSWORD, customer, first_release, paid_order

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean(settings, tmp_path):
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://shop.example"
    settings.LOGIN_FAILURES_PER_EMAIL = 5
    settings.LOGIN_FAILURES_PER_IP = 5
    settings.LOGIN_RATE_WINDOW = 15 * 60
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def release(tmp_path):
    return first_release(tmp_path, cameras=300)


def login(client, email, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


# ---------------------------------------------------------------------------------------
# login rate limits


def test_five_failures_for_one_email_lock_it_for_fifteen_minutes_with_a_clear_message(client):
    customer("lea@example.com")
    for attempt in range(5):
        response = login(client, "lea@example.com", "wrong", ip=f"10.0.0.{attempt}")  # each from another IP
        assert response.status_code in (200, 429)
    response = login(client, "Lea@Example.com", PASSWORD, ip="10.9.9.9")   # the right password, any case
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed login attempts" in text and "try again in 15 minutes" in text
    assert "_auth_user_id" not in client.session
    with time_machine.travel(timedelta(minutes=7)):
        assert "try again in 8 minutes" in login(client, "lea@example.com", PASSWORD).content.decode()
    with time_machine.travel(timedelta(minutes=16)):
        response = login(client, "lea@example.com", PASSWORD)
        assert response.status_code == 302 and "_auth_user_id" in client.session


def test_the_last_attempts_before_the_lock_are_announced(client):
    customer("lea@example.com")
    for _ in range(3):
        text = login(client, "lea@example.com", "wrong").content.decode()
    assert "did not match" in text and "2 attempts left before logins are paused for 15 minutes" in text


def test_five_failures_from_one_ip_lock_that_ip_for_every_email(client):
    customer("lea@example.com")
    for n in range(5):
        login(client, f"guess{n}@example.com", "wrong", ip="192.0.2.7")
    response = login(client, "lea@example.com", PASSWORD, ip="192.0.2.7")
    assert response.status_code == 429 and "Too many failed login attempts" in response.content.decode()
    assert login(client, "lea@example.com", PASSWORD, ip="192.0.2.8").status_code == 302   # another IP: fine


def test_a_successful_login_clears_the_failures_of_its_email(client):
    customer("lea@example.com")
    for _ in range(4):
        login(client, "lea@example.com", "wrong", ip="10.0.0.1")
    assert login(client, "lea@example.com", PASSWORD, ip="10.0.0.2").status_code == 302
    client.logout()
    for _ in range(4):
        login(client, "lea@example.com", "wrong", ip="10.0.0.3")
    assert login(client, "lea@example.com", PASSWORD, ip="10.0.0.4").status_code == 302


# ---------------------------------------------------------------------------------------
# password reset and change


def test_a_reset_request_answers_the_same_for_a_known_and_an_unknown_address(client):
    customer("lea@example.com")
    known = client.post(reverse("panel-password-reset"), {"email": "LEA@example.com"}, follow=True)
    unknown = client.post(reverse("panel-password-reset"), {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("panel-password-reset-sent"), 302)]
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [["lea@example.com"]]


def test_the_reset_link_sets_a_new_password_once_and_lifts_a_login_lock(client):
    customer("lea@example.com")
    for _ in range(5):
        login(client, "lea@example.com", "wrong", ip=f"10.1.0.{_}")
    client.post(reverse("panel-password-reset"), {"email": "lea@example.com"})
    [message] = mail.outbox
    assert message.subject == "Set a new password for your customer panel"
    link = re.search(r"https://shop\.example(/account/password/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and 'id="password-set"' in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "a-new-secret-42", "new_password2": "a-new-secret-42"})
    assert response.status_code == 302 and response["Location"] == reverse("panel-home")
    client.logout()
    assert login(client, "lea@example.com", "a-new-secret-42", ip="10.2.0.1").status_code == 302
    client.logout()
    again = client.get(link, follow=True)
    assert 'data-testid="invalid-link"' in again.content.decode()       # used once


def test_reset_requests_for_one_address_stop_sending_after_the_limit(client, settings):
    settings.PASSWORD_RESETS_PER_EMAIL = 3
    customer("lea@example.com")
    for n in range(5):
        response = client.post(reverse("panel-password-reset"), {"email": "lea@example.com"}, REMOTE_ADDR=f"10.3.0.{n}")
        assert response.status_code == 302            # the same answer every time
    assert len(mail.outbox) == 3


def test_reset_requests_from_one_ip_are_limited(client, settings):
    settings.PASSWORD_RESETS_PER_IP = 2
    for n in range(2):
        client.post(reverse("panel-password-reset"), {"email": f"x{n}@example.com"})
    response = client.post(reverse("panel-password-reset"), {"email": "lea@example.com"})
    assert response.status_code == 429 and "Too many password reset requests" in response.content.decode()


def test_changing_the_password_needs_the_current_one(client):
    user = customer("lea@example.com")
    client.force_login(user)
    url = reverse("panel-password-change")
    wrong = client.post(url, {"old_password": "nope", "new_password1": "b-new-secret-43",
                              "new_password2": "b-new-secret-43"})
    assert wrong.status_code == 200 and "incorrectly" in wrong.content.decode()
    ok = client.post(url, {"old_password": PASSWORD, "new_password1": "b-new-secret-43",
                           "new_password2": "b-new-secret-43"})
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("b-new-secret-43")
    assert client.get(reverse("panel-home")).status_code == 200      # still logged in


# ---------------------------------------------------------------------------------------
# owner filtering: every URL of the panel


def _fill(pattern, order, token):
    kwargs = {}
    for name in pattern.pattern.converters:
        kwargs[name] = {"public_id": order.public_id, "token": token, "uidb64": "MQ", }.get(name, "x")
    return reverse(pattern.name, kwargs=kwargs)


def test_an_outsider_gets_404_on_every_purchase_url_and_an_anonymous_visitor_the_login(release, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    owner, outsider = customer("owner@example.com"), customer("eve@example.com")
    order = paid_order(owner, coverage=["FR"])
    from portal import panel
    from portal.packages import ensure_package, order_spec

    stored = ensure_package(*order_spec(order), release=release)
    token = panel.download_token(order, stored)
    order_patterns = [p for p in panel_urls.urlpatterns if "public_id" in p.pattern.converters]
    other_patterns = [p for p in panel_urls.urlpatterns if "public_id" not in p.pattern.converters]
    assert len(order_patterns) >= 7

    owner_client, eve, anonymous = Client(), Client(), Client()
    owner_client.force_login(owner)
    eve.force_login(outsider)
    for pattern in order_patterns:
        url = _fill(pattern, order, token)
        query = {"codes": ["FR"]}
        assert owner_client.get(url, query).status_code in (200, 302, 405), url   # the owner gets the page (or 405)
        assert eve.get(url, query).status_code == 404, url
        assert eve.post(url, {"codes": ["BE"], "icons": "fr-danger"}).status_code == 404, url
        response = anonymous.get(url, query)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
        assert anonymous.post(url, {"codes": ["BE"]}).status_code == 302, url
    order.refresh_from_db()
    assert order.coverage == ["FR"] and order.icons == "speed"
    assert Download.objects.filter(order=order).count() == 1              # the owner's, not Eve's
    # the selector's query parameter too, and a malformed id
    assert eve.get(reverse("panel-home"), {"order": str(order.public_id)}).status_code == 404
    assert eve.get(reverse("panel-home"), {"order": "not-a-uuid"}).status_code == 404
    # the pages without an order id show Eve nothing of the owner's
    for pattern in other_patterns:
        response = eve.get(_fill(pattern, order, token), follow=True)
        assert response.status_code == (405 if pattern.name == "panel-logout" else 200), pattern.name
        text = response.content.decode()
        assert "owner@example.com" not in text and str(order.public_id) not in text, pattern.name


# ---------------------------------------------------------------------------------------
# CSRF and cookies


def test_every_panel_form_refuses_a_post_without_the_csrf_token(release):
    user = customer("lea@example.com")
    order = paid_order(user)
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code == 403
    assert anonymous.post(reverse("panel-password-reset"), {"email": user.email}).status_code == 403
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    for name, args, data in [
        ("panel-icons", [order.public_id], {"icons": "fr-danger"}),
        ("panel-coverage", [order.public_id], {"codes": ["BE"]}),
        ("panel-password-change", [], {"old_password": PASSWORD, "new_password1": "c-new-secret-44",
                                       "new_password2": "c-new-secret-44"}),
        ("panel-logout", [], {}),
    ]:
        assert browser.post(reverse(name, args=args), data).status_code == 403, name
    order.refresh_from_db()
    user.refresh_from_db()
    assert order.icons == "speed" and order.coverage == ["FR"] and user.check_password(PASSWORD)
    # with the token from the page, the same form goes through
    page = browser.get(reverse("panel-order", args=[order.public_id])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(reverse("panel-icons", args=[order.public_id]),
                            {"icons": "fr-danger", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.icons == "fr-danger"


PROBE = ("import json, django; from django.conf import settings; django.setup(); "
         "print(json.dumps({k: getattr(settings, k, None) for k in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
         "'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'CSRF_TRUSTED_ORIGINS', "
         "'SECURE_PROXY_SSL_HEADER')}))")


def settings_with(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SITE_URL", "SECURE_COOKIES", "SECURE_SSL_REDIRECT",
                          "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="portal.settings", VAR_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env=clean)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_over_https_gets_secure_cookies_and_local_http_does_not(tmp_path):
    prod = settings_with(tmp_path, SITE_URL="https://cams.example/shop", DEBUG="0", SECURE_SSL_REDIRECT="1",
                         SECURE_HSTS_SECONDS="31536000", SECURE_PROXY_SSL_HEADER="1")
    assert prod["SESSION_COOKIE_SECURE"] is True and prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SESSION_COOKIE_HTTPONLY"] is True and prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SECURE_HSTS_SECONDS"] == 31536000 and prod["CSRF_TRUSTED_ORIGINS"] == ["https://cams.example"]
    assert prod["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    local = settings_with(tmp_path)
    assert local["SESSION_COOKIE_SECURE"] is False and local["CSRF_COOKIE_SECURE"] is False
    assert local["SECURE_SSL_REDIRECT"] is False
    forced = settings_with(tmp_path, SITE_URL="http://127.0.0.1:8000", SECURE_COOKIES="1")
    assert forced["SESSION_COOKIE_SECURE"] is True
