"""Signed, expiring download links (no login needed: the link is the key)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "portal.download"


def download_token(order, key: str) -> str:
    return signing.TimestampSigner(salt=SALT).sign(f"{order.public_id}:{key}")


def download_url(order, key: str, absolute: bool = False) -> str:
    path = reverse("download", args=[download_token(order, key)])
    return settings.SITE_URL.rstrip("/") + path if absolute else path


def read_token(token: str, max_age: int | None = None) -> tuple[str, str]:
    """(order public id, package key) of a valid token; raises signing.BadSignature
    (or SignatureExpired) otherwise."""
    value = signing.TimestampSigner(salt=SALT).unsign(
        token, max_age=settings.DOWNLOAD_LINK_MAX_AGE if max_age is None else max_age)
    public_id, _, key = value.partition(":")
    return public_id, key
