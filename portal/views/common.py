"""What several views share: taking an order by its public id before anything else."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed

from portal.services import purchases


def order_of_user(request, public_id):
    order = purchases.owned_order(request.user, public_id)
    if order is None:
        raise Http404("no such purchase")
    return order


def owner_first(lookup, *methods):
    """Decorate a view of one order: ``lookup(request, public_id)`` first (it raises 404
    for anyone else's or an unknown id, whatever the method, so the answer never depends on
    whether the id exists), then the method (405), then the view with the order."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, public_id, *args, **kwargs):
            order = lookup(request, public_id)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, order, *args, **kwargs)

        return wrapper

    return decorate


def purchase_view(*methods, lookup=order_of_user):
    """A view of one purchase: login first (anonymous -> the login page), then the owner
    (anyone else's or an unknown id -> 404, whatever the method), then the method (405).
    ``lookup`` finds the order (by default a paid one: ``purchases.owned_order``)."""

    def decorate(view):
        return login_required(owner_first(lookup, *methods)(view))

    return decorate
