"""Password reset: one limit for every spelling of an address."""

import uuid

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from portal.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def private_cache(settings):
    """A local-memory cache of this test's own, so rate-limit counters start at zero."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"audit-{uuid.uuid4()}"}}
    yield
    cache.clear()


# --------------------------------------------------------------------------- password reset limit


def test_every_capitalisation_of_an_address_counts_against_one_reset_limit(client, settings, private_cache):
    settings.PASSWORD_RESETS_PER_EMAIL = 2
    settings.PASSWORD_RESETS_PER_IP = 100
    User.objects.create_user("lea@example.com", PASSWORD)
    for n, spelling in enumerate(["Lea@Example.com", "LEA@example.com", "lea@EXAMPLE.COM"] * 2):
        response = client.post(reverse("accounts-password-reset"), {"email": spelling}, REMOTE_ADDR=f"10.5.0.{n}")
        assert response.status_code == 302 and response["Location"] == reverse("accounts-password-reset-sent")
    assert [m.to for m in mail.outbox] == [["lea@example.com"]] * 2
