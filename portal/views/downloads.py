"""Downloads: the signed, expiring link from an email (no login: the link is the key) and the
panel's own link (its owner only). Both record each download."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from portal.models import Download, Order
from portal.services import links, purchases
from portal.services.delivery import package_response
from portal.services.packages import download_filename, is_stored, stored_package
from portal.views.common import purchase_view


def link_download(request, token):
    """The file behind a signed, expiring link (the link is the key: no login). A forged,
    tampered or revoked link is 404 whatever the method; an expired one says where to go."""
    try:
        link = links.read(token, links.EMAIL)
    except signing.SignatureExpired:
        return render(request, "portal/shop/link_expired.html", status=410)
    except signing.BadSignature:
        raise Http404("no such download") from None
    public_id, key = link.public_id, link.key
    try:
        # With its release in the same query, less the release's changelog (as the panel's
        # lookup): a first release's changelog lists up to 50,000 camera ids, hundreds of kB
        # read and parsed per download on a release-day rush, for a download that needs none.
        order = (Order.objects.filter(public_id=public_id, status=Order.Status.PAID).select_related("release")
                 .defer(purchases.NO_CHANGELOG).first())
    except ValidationError:  # not an order id
        order = None
    if order is None:
        raise Http404("no such download")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    stored = stored_package(order)
    current = stored is not None and stored.key == key
    try:
        if not current and not is_stored(key):
            raise FileNotFoundError(key)
        # an older file of this order: still valid while it is in the store
        response = package_response(key, stored.filename if current else download_filename(order.device_id))
    except ValueError:  # not a package key (a signed value can still be anything)
        raise Http404("no such download") from None
    except FileNotFoundError:
        raise Http404(_("The file is no longer available; download the latest one from your customer panel.")) from None
    Download.objects.create(order=order, release=order.release if current else None, package_key=key, via="email")
    return response


@never_cache
@purchase_view("GET")
def panel_download(request, order, token):
    """The file behind a signed, expiring panel link, for its owner only; each download is
    recorded (``Download``), with the release it was built from."""
    try:
        link = links.read(token, links.PANEL)
    except signing.SignatureExpired:
        messages.info(request, _("That download link had expired; here is a fresh one."))
        return redirect("panel-order", order.public_id)
    except signing.BadSignature:
        raise Http404("no such download") from None
    if link.public_id != str(order.public_id):
        raise Http404("no such download")
    key, release_number = link.key, link.release_number
    try:
        response = package_response(key, download_filename(order.device_id, release_number))
    except ValueError:
        raise Http404("no such download") from None
    except FileNotFoundError:
        messages.info(request, _("That file is no longer stored; here is the current one."))
        return redirect("panel-order", order.public_id)
    purchases.record_download(order, key, release_number)
    return response
