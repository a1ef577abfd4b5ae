"""The limiters key an address as the database compares it (``ratelimit.email_key``): every
spelling the account lookup (``email__iexact``, UPPER() on PostgreSQL) treats as one address
shares one counter, so unknown-address variants neither pass the reset limit nor tell, by
being limited differently, which addresses have an account.

The PostgreSQL pass of ./test is where the dotless ı matters: PostgreSQL's UPPER() folds it
into I (Python's upper() does too, but the old key lower-cased, which keeps it), and keeps ß
(Python's upper() makes it SS)."""

import unicodedata

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from portal.lib.ratelimit import email_key
from portal.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
# The variants are in the domain: Django's EmailValidator takes only ASCII before the @, and
# an internationalised domain after it.
ACCOUNT = "lea@lia-strasse.com"
UNKNOWN = "lea@ida-strasse.com"


def spellings(address: str) -> list[str]:
    """Spellings of ``address``: case, the dotless ı, the Turkish dotted İ, ß vs ss, the long
    s ſ, fullwidth letters (NFKC), surrounding spaces."""
    local, domain = address.split("@")
    label, rest = domain.split("-", 1)
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in label)
    return [address, address.upper(), f"{local}@{label.replace('i', chr(0x131))}-{rest}",
            f"{local}@{label.upper().replace('I', chr(0x130))}-{rest}", f"{local}@{label}-{rest.replace('ss', chr(0xDF))}",
            f"{local}@{label}-{rest.replace('ss', chr(0x17F) * 2)}", f"{local}@{fullwidth}-{rest}",
            f" {address.title()} "]


def reaches(address: str, spelling: str) -> bool:
    """Whether the account lookup (the database's comparison) finds ``address`` by ``spelling``."""
    return User.objects.filter(pk=User.objects.get(email=address).pk,
                               email__iexact=unicodedata.normalize("NFKC", spelling).strip()).exists()


def same_address(address: str) -> list[str]:
    """The spellings of ``address`` the database's lookup treats as it: asked of the database
    with an account of that address, which is then rolled back (an unknown address stays so)."""
    try:
        with transaction.atomic():
            if not User.objects.filter(email=address).exists():
                User.objects.create_user(address, PASSWORD)
            found = [s for s in spellings(address) if reaches(address, s)]
            raise _Rollback(found)
    except _Rollback as done:
        return done.args[0]


class _Rollback(Exception):
    pass


def test_the_key_is_the_databases_comparison_for_every_spelling():
    User.objects.create_user(ACCOUNT, PASSWORD)
    for spelling in spellings(ACCOUNT):
        assert reaches(ACCOUNT, spelling) == (email_key(spelling) == email_key(ACCOUNT)), spelling
    if connection.vendor == "postgresql":
        assert reaches(ACCOUNT, "lea@l\u0131a-strasse.com")          # PostgreSQL folds ı into I...
        assert email_key("lea@l\u0131a-strasse.com") == email_key(ACCOUNT)  # ...and so does the key
        assert not reaches(ACCOUNT, "lea@lia-stra\u00dfe.com")       # but keeps ß (Python: SS)
        assert email_key("lea@lia-stra\u00dfe.com") != email_key(ACCOUNT)


def _reset(client, spelling, n):
    return client.post(reverse("accounts-password-reset"), {"email": spelling}, REMOTE_ADDR=f"10.9.{n // 250}.{n % 250}")


@pytest.mark.parametrize("address", [ACCOUNT, UNKNOWN])
def test_the_reset_limit_holds_for_every_variant_and_answers_alike(client, settings, local_cache, address):
    settings.PASSWORD_RESETS_PER_EMAIL = 2
    settings.PASSWORD_RESETS_PER_IP = 1000
    User.objects.create_user(ACCOUNT, PASSWORD)
    variants = same_address(address)
    assert not User.objects.filter(email=UNKNOWN).exists()
    assert len(variants) >= 5  # case, spaces, fullwidth at least (and ı on PostgreSQL)
    answers = set()
    for n, spelling in enumerate(variants * 2):
        response = _reset(client, spelling, n)
        answers.add((response.status_code, response["Location"]))
    assert answers == {(302, reverse("accounts-password-reset-sent"))}
    sent = [m.to for m in mail.outbox]
    assert sent == ([[ACCOUNT]] * 2 if address == ACCOUNT else [])


def test_a_locked_login_looks_the_same_for_an_account_and_an_unknown_address(client, settings, local_cache):
    """Five failures with one spelling lock every spelling the database treats as the same
    address, whether it has an account or not: no difference to read."""
    settings.LOGIN_FAILURES_PER_EMAIL = 5
    settings.LOGIN_FAILURES_PER_IP = 1000
    User.objects.create_user(ACCOUNT, PASSWORD)
    statuses = {}
    for address in (ACCOUNT, UNKNOWN):
        first, *others = same_address(address)
        for n in range(5):
            client.post(reverse("accounts-login"), {"username": first, "password": "wrong"},
                        REMOTE_ADDR=f"10.8.{n}.1")
        statuses[address] = [client.post(reverse("accounts-login"), {"username": s, "password": "wrong"},
                                         REMOTE_ADDR="10.8.9.9").status_code for s in others]
    assert statuses[ACCOUNT] == statuses[UNKNOWN] == [429] * len(statuses[ACCOUNT])
