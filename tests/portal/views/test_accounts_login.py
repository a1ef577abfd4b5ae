"""Login locks: per account (its email, however spelled), with a much higher per-IP limit,
and one lock duration named by every message about it."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from portal import settings as shipped
from portal.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
OFFICE_IP = "198.51.100.20"   # many customers behind one address


@pytest.fixture(autouse=True)
def _defaults(settings, local_cache):
    """The shipped limits (the test settings may not override them)."""
    settings.LOGIN_FAILURES_PER_EMAIL = 5
    settings.LOGIN_FAILURES_PER_IP = 50
    settings.LOGIN_RATE_WINDOW = 15 * 60
    settings.LOGIN_LOCK_SECONDS = 15 * 60
    settings.CLIENT_IP_HEADER = ""


def login(client, email, password, ip=OFFICE_IP):
    return client.post(reverse("accounts-login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_the_shipped_settings_lock_per_account_and_far_later_per_ip():
    assert shipped.LOGIN_FAILURES_PER_EMAIL == 5
    assert shipped.LOGIN_FAILURES_PER_IP >= 10 * shipped.LOGIN_FAILURES_PER_EMAIL


def test_one_persons_failed_logins_lock_their_account_only_not_the_other_customers_on_the_ip(client):
    User.objects.create_user("lea@example.com", PASSWORD)
    User.objects.create_user("bob@example.com", PASSWORD)
    statuses = [login(client, "Lea@Example.com", "wrong").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert login(client, "lea@example.com", PASSWORD).status_code == 429     # Lea's account is locked
    response = login(client, "bob@example.com", PASSWORD)                      # Bob, same IP, gets in
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_many_failures_from_one_ip_lock_it_at_the_higher_limit(client, settings):
    User.objects.create_user("bob@example.com", PASSWORD)
    for n in range(49):
        assert login(client, f"guess{n}@example.com", "wrong").status_code == 200
    assert login(client, "guess49@example.com", "wrong").status_code == 429
    response = login(client, "bob@example.com", PASSWORD)
    assert response.status_code == 429 and "Too many failed login attempts" in response.content.decode()
    assert login(client, "bob@example.com", PASSWORD, ip="198.51.100.21").status_code == 302


@pytest.mark.parametrize("lock_minutes", [15, 5])
def test_the_warning_and_the_lock_name_the_same_duration(client, settings, lock_minutes):
    settings.LOGIN_LOCK_SECONDS = lock_minutes * 60
    User.objects.create_user("lea@example.com", PASSWORD)
    with time_machine.travel("2026-03-02 10:00:00Z", tick=False) as clock:
        for _ in range(3):                       # failures spread over twelve minutes of the window
            text = login(client, "lea@example.com", "wrong").content.decode()
            clock.shift(timedelta(minutes=4))
        assert f"2 attempts left before logins are paused for {lock_minutes} minutes" in text
        login(client, "lea@example.com", "wrong")
        response = login(client, "lea@example.com", "wrong")
        assert response.status_code == 429
        assert f"try again in {lock_minutes} minutes" in response.content.decode()
        clock.shift(timedelta(minutes=lock_minutes, seconds=1))
        assert login(client, "lea@example.com", PASSWORD).status_code == 302
