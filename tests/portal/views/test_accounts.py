"""Password reset: one limit for every spelling of an address."""


import pytest
from django.core import mail
from django.urls import reverse

from portal.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


# --------------------------------------------------------------------------- password reset limit


def test_every_capitalisation_of_an_address_counts_against_one_reset_limit(client, settings, local_cache):
    settings.PASSWORD_RESETS_PER_EMAIL = 2
    settings.PASSWORD_RESETS_PER_IP = 100
    User.objects.create_user("lea@example.com", PASSWORD)
    for n, spelling in enumerate(["Lea@Example.com", "LEA@example.com", "lea@EXAMPLE.COM"] * 2):
        response = client.post(reverse("accounts-password-reset"), {"email": spelling}, REMOTE_ADDR=f"10.5.0.{n}")
        assert response.status_code == 302 and response["Location"] == reverse("accounts-password-reset-sent")
    assert [m.to for m in mail.outbox] == [["lea@example.com"]] * 2
