"""The response that hands a package to its owner, once the view has checked the ownership.

From the local disk: ``FileResponse`` (sendfile by gunicorn). From an object store, by
``STORAGE_DOWNLOADS``:

- ``redirect`` (the default): a 302 to a presigned URL of the object that expires after
  ``STORAGE_URL_MAX_AGE`` seconds and names the download file. The web node only checks, signs
  (a local HMAC, no request to the store beyond the HEAD saying the file is there) and
  answers; the bytes go from the store to the customer, so a release-day rush costs the web
  nodes a few milliseconds per download rather than a thread for the whole transfer.
  benchmarks/bench_rush.py measures both modes.
- ``stream``: the web node reads the object and streams it on, for a store the customers
  cannot reach (a private network); the cost is a web thread per download in flight.

Never cached by a proxy: the URL is the customer's alone and short-lived.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers

from cameras.storage import get_store

from portal.services.packages import store_name


def package_response(key: str, filename: str):
    """The download of package ``key`` as ``filename``; FileNotFoundError when the store does
    not hold it, ValueError when ``key`` is not a package key."""
    store, name = get_store(), store_name(key)
    if store.remote and settings.STORAGE_DOWNLOADS == "redirect":
        if not store.exists(name):
            raise FileNotFoundError(name)
        response = HttpResponseRedirect(store.download_url(name, filename))
        add_never_cache_headers(response)
        return response
    body = store.open(name)
    response = FileResponse(body, as_attachment=True, filename=filename, content_type="application/zip")
    if store.remote:
        response["Content-Length"] = str(store.size(name))
    return response
