"""Signed, expiring download links: the one signer of the site's download tokens.

Two kinds of link carry a token:

- EMAIL: ``/download/<token>/``, in the emails and on the order status page. No login: the
  link is the key. Valid DOWNLOAD_LINK_MAX_AGE seconds; an expired one gets a page saying
  where to find the file.
- PANEL: ``/account/devices/<order>/download/<token>/``, on the customer panel, for the
  order's owner only (the view checks the login). Valid PANEL_DOWNLOAD_LINK_MAX_AGE seconds;
  an expired one sends the owner back to the panel for a fresh one. It carries the number of
  the release the file was built from, recorded with the download.

A token is ``TimestampSigner(salt=SALT)`` over ``"<order public id>:<package key>:<release
number or ''>:<kind>"``; ``read(token, kind)`` refuses a token of the other kind, so a panel
link never opens a file without a login. Tokens signed before there was one signer (salt
"portal.download" over ``"<public id>:<key>"`` in the emails, "portal.panel.download" over
``"<public id>:<key>:<release>"`` on the panel) are still read, each by its own kind of
link, until they expire like the others.

The order page's email link, ``/orders/<order>/?key=<token>``, carries an ``order_token``:
``Signer(salt=ORDER_SALT)`` over the order's public id. It opens that order's page (status
and a fresh download link) in any browser, without expiring: what it shows is the order's
own state, and the downloads it offers expire like every email link."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "portal.links"
EMAIL, PANEL = "email", "panel"
OLD_SALTS = {EMAIL: "portal.download", PANEL: "portal.panel.download"}
ORDER_SALT = "portal.order-page"


@dataclass(frozen=True)
class Link:
    public_id: str
    key: str
    release_number: int | None = None


def _max_age(kind: str) -> int:
    return settings.DOWNLOAD_LINK_MAX_AGE if kind == EMAIL else settings.PANEL_DOWNLOAD_LINK_MAX_AGE


def sign(kind: str, public_id, key: str, release_number: int | None = None) -> str:
    number = "" if release_number is None else int(release_number)
    return signing.TimestampSigner(salt=SALT).sign(f"{public_id}:{key}:{number}:{kind}")


def download_token(order, key: str) -> str:
    """The token of an email link to the order's package ``key``."""
    return sign(EMAIL, order.public_id, key)


def download_url(order, key: str, absolute: bool = False) -> str:
    path = reverse("download-link", args=[download_token(order, key)])
    return settings.SITE_URL.rstrip("/") + path if absolute else path


def panel_token(order, package) -> str:
    """The token of a panel link to ``package`` (a ``packages.StoredPackage``)."""
    return sign(PANEL, order.public_id, package.key, package.release.number)


def panel_url(order, package) -> str:
    return reverse("download-panel", args=[order.public_id, panel_token(order, package)])


def order_token(order) -> str:
    """The key of the order page's email link (the signature alone: the URL holds the id)."""
    return signing.Signer(salt=ORDER_SALT).sign(str(order.public_id)).rsplit(":", 1)[1]


def order_url(order, absolute: bool = False) -> str:
    path = f"{reverse('shop-order', args=[order.public_id])}?key={order_token(order)}"
    return settings.SITE_URL.rstrip("/") + path if absolute else path


def opens_order(order, token: str) -> bool:
    """Whether ``token`` is the key of ``order``'s page link."""
    try:
        signing.Signer(salt=ORDER_SALT).unsign(f"{order.public_id}:{token}")
    except signing.BadSignature:
        return False
    return True


def read(token: str, kind: str) -> Link:
    """What a valid ``kind`` token links to; raises ``signing.SignatureExpired`` when it is too
    old, ``signing.BadSignature`` (its base class) when it is forged, tampered with or of the
    other kind."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        value = signer.unsign(token)
    except signing.BadSignature:
        return _read_old(token, kind)
    public_id, key, number, token_kind = _fields(value, 4)
    if token_kind != kind:
        raise signing.BadSignature("a link of another kind")
    signer.unsign(token, max_age=_max_age(kind))  # raises SignatureExpired
    return Link(public_id, key, _number(number) if number else None)


def _read_old(token: str, kind: str) -> Link:
    value = signing.TimestampSigner(salt=OLD_SALTS[kind]).unsign(token, max_age=_max_age(kind))
    if kind == EMAIL:
        public_id, key = _fields(value, 2, maxsplit=1)
        return Link(public_id, key)
    public_id, key, number = _fields(value, 3)
    return Link(public_id, key, _number(number))


def _fields(value: str, count: int, maxsplit: int = -1) -> list[str]:
    fields = value.split(":", maxsplit)
    if len(fields) != count:
        raise signing.BadSignature("not a download link")
    return fields


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise signing.BadSignature("not a download link") from None
