"""Limits an anonymous or hostile client meets: request bodies over their size cap are
refused with 413 before anything parses them, a screenshot that would decompress into an
enormous bitmap is refused with a message, and production refuses the demo Stripe values."""

import os
import struct
import subprocess
import sys
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import ErrorReport, StripeEvent, User

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
REPORT_MAX_BYTES_DEFAULT = 2 * MB


def post_sized(client, url, length: int, body: bytes = b"x", content_type="application/x-www-form-urlencoded"):
    """A POST announcing ``length`` bytes (the test client sends only ``body``): what counts is
    that the answer comes from the header, before anything reads the body."""
    return client.generic("POST", url, body, content_type=content_type, CONTENT_LENGTH=str(length))


def test_an_anonymous_form_post_over_one_megabyte_is_refused_with_413_before_the_csrf_check():
    client = Client(enforce_csrf_checks=True)   # a parsed body without a CSRF token would be a 403
    response = post_sized(client, reverse("accounts-login"), 200 * MB)
    assert response.status_code == 413
    assert response.content.decode() == "The request is too large (200.0\xa0MB); this page accepts at most 1.1\xa0MB."


def test_a_real_body_over_the_limit_is_refused_and_one_under_it_is_served(client):
    big = b"email=a%40example.com&password=" + b"x" * (MB + 100 * 1024)
    assert client.post(reverse("accounts-login"), big, content_type="application/x-www-form-urlencoded"
                       ).status_code == 413
    assert client.post(reverse("accounts-login"), {"username": "a@example.com", "password": "wrong"}
                       ).status_code == 200


def test_a_webhook_body_over_the_limit_is_refused_and_nothing_is_stored(client):
    response = post_sized(client, reverse("webhook-stripe"), 2 * MB, b"{}", content_type="application/json")
    assert response.status_code == 413 and not StripeEvent.objects.exists()


def test_the_report_form_accepts_a_larger_body_up_to_ten_megabytes(owner_client, owner_order):
    url = reverse("panel-report", args=[owner_order.public_id])
    # 5 MB reaches the report view, whose form refuses the screenshot with its limit and keeps
    # the customer's text (it used to answer 413 with an empty form)
    shot = SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n" + os.urandom(5 * MB), content_type="image/png")
    within = owner_client.post(url, {"text": "The camera on the A6 is gone", "screenshot": shot})
    page = within.content.decode()
    assert within.status_code == 400 and "the limit is 2.0\xa0MB" in page and "The camera on the A6 is gone" in page
    over = post_sized(owner_client, url, 11 * MB, content_type="multipart/form-data; boundary=xyz")
    assert over.status_code == 413 and "this page accepts at most 10.0\xa0MB" in over.content.decode()


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_a_malformed_content_length_is_a_bad_request(client, length):
    response = client.generic("POST", reverse("accounts-login"), b"x", CONTENT_LENGTH=length)
    assert response.status_code == 400 and "Content-Length" in response.content.decode()


def test_django_parses_at_most_one_megabyte_of_form_data(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == MB
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 3 * MB


# --------------------------------------------------------------------------- screenshots


def png_of(width: int, height: int) -> bytes:
    """A PNG of ``width`` x ``height`` pixels of one colour: a few kilobytes that decompress
    into width * height * 3 bytes."""
    row = b"\0" + b"\0" * (width * 3)                      # filter byte + black pixels
    raw = zlib.compress(row * height, 9)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def send_report(client, order, text, screenshot: bytes):
    return client.post(reverse("panel-report", args=[order.public_id]),
                       {"text": text, "screenshot": SimpleUploadedFile("shot.png", screenshot, "image/png")})


def test_a_144_megapixel_screenshot_is_refused_with_the_limit_and_the_text_is_kept(owner_client, owner_order):
    bomb = png_of(12_000, 12_000)                          # 144 megapixels, about 420 MB decoded
    assert len(bomb) < REPORT_MAX_BYTES_DEFAULT
    text = "My Garmin shows no cameras near Lyon since the update"
    response = send_report(owner_client, owner_order, text, bomb)
    page = response.content.decode()
    assert response.status_code == 400
    assert "The screenshot is 12,000 × 12,000 pixels (144 megapixels); the limit is 40 megapixels." in page
    assert text in page                                    # the customer does not type it again
    assert not ErrorReport.objects.exists()


def test_a_screenshot_under_the_pixel_limit_is_accepted(owner_client, owner_order):
    response = send_report(owner_client, owner_order, "crash", png_of(1920, 1080))
    assert response.status_code == 302 and ErrorReport.objects.get().screenshot_type == "image/png"


def test_the_pixel_limit_is_a_setting(owner_client, owner_order, settings):
    settings.REPORT_MAX_PIXELS = 1_000_000
    response = send_report(owner_client, owner_order, "crash", png_of(1920, 1080))
    assert response.status_code == 400 and "the limit is 1 megapixels" in response.content.decode()


# --------------------------------------------------------------------------- production refuses test Stripe values

ROOT = Path(__file__).resolve().parents[2]
LIVE = {"STRIPE_SECRET_KEY": "sk_live_" + "a1B2" * 6, "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "c3D4" * 6,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "e5F6" * 8, "STRIPE_API_BASE": "https://api.stripe.com",
        "STRIPE_JS_URL": "https://js.stripe.com/v3/"}


def import_settings(tmp_path, production="1", **stripe):
    """Import portal.settings in a fresh interpreter with PRODUCTION=1 (by default) and these Stripe values."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STRIPE_", "DJANGO_", "DEBUG", "DATABASE_URL", "REDIS_URL"))}
    env.update(PRODUCTION=production, DEBUG="0", SECRET_KEY="k" * 60, ALLOWED_HOSTS="shop.example.com",
               SITE_URL="https://shop.example.com", VAR_DIR=str(tmp_path / "var"), **stripe)
    return subprocess.run([sys.executable, "-c", "import portal.settings"], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)


def test_production_starts_with_live_stripe_values(tmp_path):
    result = import_settings(tmp_path, **LIVE)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name, value, message", [
    ("STRIPE_SECRET_KEY", "sk_test_demo", "STRIPE_SECRET_KEY is a test key (sk_test_...): set the live key (sk_live_...)"),
    ("STRIPE_SECRET_KEY", "sk_test_localstripe", "STRIPE_SECRET_KEY is a test key"),
    ("STRIPE_PUBLISHABLE_KEY", "pk_test_demo", "STRIPE_PUBLISHABLE_KEY is a test key (pk_test_...): set the live key"),
    ("STRIPE_SECRET_KEY", "sk_live_or_test_key", "STRIPE_SECRET_KEY is a demo or placeholder value"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_demo", "STRIPE_WEBHOOK_SECRET is a demo or placeholder value"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_localstripe", "STRIPE_WEBHOOK_SECRET is a demo or placeholder value"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_from_the_dashboard", "STRIPE_WEBHOOK_SECRET is a demo or placeholder value"),
    ("STRIPE_API_BASE", "http://127.0.0.1:8420", "set STRIPE_API_BASE=https://api.stripe.com"),
    ("STRIPE_JS_URL", "http://127.0.0.1:8420/js.stripe.com/v3/", "set STRIPE_JS_URL=https://js.stripe.com/v3/"),
])
def test_production_refuses_test_and_demo_stripe_values_and_says_what_to_set(tmp_path, name, value, message):
    result = import_settings(tmp_path, **dict(LIVE, **{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured: PRODUCTION=1 refuses test and demo Stripe values" in result.stderr
    assert message in result.stderr


def test_without_production_the_demo_stripe_values_are_accepted(tmp_path):
    demo = dict(STRIPE_SECRET_KEY="sk_test_demo", STRIPE_PUBLISHABLE_KEY="pk_test_demo",
                STRIPE_WEBHOOK_SECRET="whsec_demo", STRIPE_API_BASE="http://127.0.0.1:8420")
    result = import_settings(tmp_path, production="0", **demo)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- the admin login

STAFF_PASSWORD = "staff-Pa55word-long"


@pytest.fixture
def staff(local_cache, settings):
    settings.LOGIN_FAILURES_PER_EMAIL = 5
    settings.LOGIN_FAILURES_PER_IP = 50
    settings.LOGIN_LOCK_SECONDS = 15 * 60
    return User.objects.create_user("boss@example.com", STAFF_PASSWORD, is_staff=True, is_superuser=True)


def admin_login(client, password, email="boss@example.com", ip="10.0.0.1"):
    return client.post(reverse("admin:login"), {"username": email, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=ip)


def test_the_admin_login_works_with_the_right_password(client, staff):
    response = admin_login(client, STAFF_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_twelve_wrong_admin_passwords_lock_the_account_and_the_right_one_is_refused(client, staff):
    for attempt in range(12):
        admin_login(client, f"guess-{attempt}", ip=f"10.0.1.{attempt}")   # each from another IP
    response = admin_login(client, STAFF_PASSWORD, ip="10.0.2.1")
    assert response.status_code == 429
    assert "Too many failed login attempts. Please try again in 15 minutes." in response.content.decode()
    assert client.get("/admin/").status_code == 302                       # not logged in
    # the panel login honours the same lock
    assert client.post(reverse("accounts-login"), {"username": "boss@example.com", "password": STAFF_PASSWORD},
                       REMOTE_ADDR="10.0.2.2").status_code == 429


def test_an_account_locked_by_the_panel_login_is_locked_in_the_admin_too(client, staff):
    for attempt in range(5):
        client.post(reverse("accounts-login"), {"username": "boss@example.com", "password": "wrong"},
                    REMOTE_ADDR="10.0.3.1")
    assert admin_login(client, STAFF_PASSWORD, ip="10.0.3.2").status_code == 429


def test_the_admin_lock_ends_after_its_duration(client, staff):
    for attempt in range(5):
        admin_login(client, "wrong")
    assert admin_login(client, STAFF_PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert admin_login(client, STAFF_PASSWORD).status_code == 302


def test_a_customer_cannot_log_in_to_the_admin(client, staff):
    User.objects.create_user("lea@example.com", "lea-Pa55word-long")
    response = admin_login(client, "lea-Pa55word-long", email="lea@example.com")
    assert response.status_code == 200 and "staff account" in response.content.decode()
