"""The panel's defences: login rate limits, password reset without account enumeration,
password change, secure cookies in production settings. Every URL filtered by owner and
CSRF on every form are swept for the whole site in test_security.py."""

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
from django.urls import reverse

from tests.portal.panelkit import PASSWORD, customer

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _clean(settings, tmp_path, local_cache):
    settings.PACKAGES_DIR = tmp_path / "packages"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://shop.example"
    settings.LOGIN_FAILURES_PER_EMAIL = 5
    settings.LOGIN_FAILURES_PER_IP = 5
    settings.LOGIN_RATE_WINDOW = 15 * 60


def login(client, email, password, ip="10.0.0.1"):
    return client.post(reverse("accounts-login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


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
    known = client.post(reverse("accounts-password-reset"), {"email": "LEA@example.com"}, follow=True)
    unknown = client.post(reverse("accounts-password-reset"), {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("accounts-password-reset-sent"), 302)]
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [["lea@example.com"]]


def test_the_reset_link_sets_a_new_password_once_and_lifts_a_login_lock(client):
    customer("lea@example.com")
    for _ in range(5):
        login(client, "lea@example.com", "wrong", ip=f"10.1.0.{_}")
    client.post(reverse("accounts-password-reset"), {"email": "lea@example.com"})
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
        response = client.post(reverse("accounts-password-reset"), {"email": "lea@example.com"}, REMOTE_ADDR=f"10.3.0.{n}")
        assert response.status_code == 302            # the same answer every time
    assert len(mail.outbox) == 3


def test_reset_requests_from_one_ip_are_limited(client, settings):
    settings.PASSWORD_RESETS_PER_IP = 2
    for n in range(2):
        client.post(reverse("accounts-password-reset"), {"email": f"x{n}@example.com"})
    response = client.post(reverse("accounts-password-reset"), {"email": "lea@example.com"})
    assert response.status_code == 429 and "Too many password reset requests" in response.content.decode()


def test_changing_the_password_needs_the_current_one(client):
    user = customer("lea@example.com")
    client.force_login(user)
    url = reverse("accounts-password-change")
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
# cookies (owner filtering of every URL and CSRF on every form: test_security.py's sweeps)


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
