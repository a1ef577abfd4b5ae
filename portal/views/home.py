"""The home page (what the service is, the device picker, the preview map of the current
release) and the map's cluster endpoint."""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import quote_etag
from django.utils.translation import get_language, gettext as _, gettext_lazy, ngettext
from django.views.decorators.http import require_safe

from cameras.exporting import latest_release, release_index
from cameras.lru import LRU
from cameras.releases import changelog_text
from cameras.models import Release
from exporters.common import CATEGORIES
from exporters.devices import DEVICES
from exporters.schema import CameraType

from portal.services import mapdata
from portal.services import naming

KIND_LABELS = {"pnd": gettext_lazy("Navigation device"), "head-unit": gettext_lazy("Car head unit"),
               "app": gettext_lazy("App / file")}   # lazy: device_brands() is cached across languages
CLUSTER_MAX_AGE = 60          # seconds a browser may reuse an answer before revalidating (ETag)
CLUSTER_CACHE_SECONDS = 3600  # server-side cache of encoded answers, keyed by ETag


_CHANGELOG_TEXTS: LRU[str] = LRU(16)


def _changelog_text(release_pk: int, sha256: str) -> str:
    """A release's changelog line, computed once per process (releases never change)."""
    language = get_language() or "en"
    return _CHANGELOG_TEXTS.get((release_pk, sha256, language),
                                lambda: changelog_text(Release.objects.get(pk=release_pk)))


def model_patterns(model: str) -> list[str]:
    """The model-number patterns of a catalog model, x standing for any digit: "GO classic
    (x20/x30/x40/x50)" -> x20 x30 x40 x50, "DriveSmart 5x / 6x / 7x" -> 5x 6x 7x, so the
    picker finds "tomtom go 520" and "drivesmart 66" (portal/static/portal/map.js)."""
    tokens = re.findall(r"(?<![a-z0-9.])[0-9x]*[0-9][0-9x]*(?![a-z0-9])", model.lower())
    return [t for t in tokens if "x" in t]


@lru_cache(maxsize=1)
def device_brands() -> list[dict]:
    """The catalog grouped by brand (brands in catalog order): [{'brand', 'slug', 'devices'}]."""
    groups: dict[str, list[dict]] = {}
    for d in DEVICES:
        try:
            format_name = gettext_lazy(d.exporter().verbose_name)  # lazy: cached across languages
        except Exception:  # an unknown format is reported by validate_catalog, not here
            format_name = d.format
        groups.setdefault(d.brand, []).append({
            "id": d.id, "brand": d.brand, "model": d.model, "name": d.name, "format": format_name,
            "kind": KIND_LABELS.get(d.kind, d.kind),
            # the format's long name stays out: "GPX 1.1 waypoints (Garmin POI Loader, ...)" made
            # "garmin" find OsmAnd
            "search": " ".join((d.brand, d.model, d.id, d.format, d.kind)).lower(),
            "models": " ".join(model_patterns(d.model)),
        })
    return [{"brand": brand, "slug": f"brand-{i}", "devices": devices}
            for i, (brand, devices) in enumerate(groups.items())]


def _type_category() -> dict[int, str]:
    return {int(t): slug for slug, _title, members in CATEGORIES for t in members}


def map_types(release: Release | None) -> list[dict]:
    """Every camera type for the filter, with the release's count and its category."""
    counts = (release.counts or {}).get("type", {}) if release else {}
    cat = _type_category()
    # the type names are exporters.schema's (marked there), shown in the page's language
    return [{"slug": t.slug, "label": _(str(t.label)), "count": int(counts.get(t.slug, 0)),
             "category": cat.get(int(t), "other")} for t in CameraType]


def map_config(release: Release | None) -> dict:
    leaflet = getattr(settings, "LEAFLET_CONFIG", {}) or {}
    tiles = leaflet.get("TILES") or []
    tile_url, tile_options = "", {}
    if tiles:
        first = tiles[0]
        if isinstance(first, (list, tuple)):
            tile_url = first[1] if len(first) > 1 else ""
            tile_options = dict(first[2]) if len(first) > 2 else {}
        else:
            tile_url = str(first)
    elif isinstance(leaflet.get("TILES"), str):
        tile_url = leaflet["TILES"]
    center = leaflet.get("DEFAULT_CENTER") or (50.0, 10.0)
    return {
        "tiles": tile_url,
        "tileOptions": tile_options,
        "center": list(center),
        "zoom": leaflet.get("DEFAULT_ZOOM", 4),
        "minZoom": max(leaflet.get("MIN_ZOOM", 2), mapdata.MIN_ZOOM),
        "maxZoom": min(leaflet.get("MAX_ZOOM", 18), mapdata.MAX_ZOOM),
        "release": release.number if release else None,
        "types": [{"slug": t["slug"], "label": t["label"], "category": t["category"]} for t in map_types(release)],
    }


def home(request):
    release = latest_release(changelog=False, missing_ok=True)
    names = naming.country_names()
    countries = []
    changelog = ""
    if release is not None:
        countries = [{"code": code, "name": names.get(code, code or _("unknown")), "count": count}
                     for code, count in release.counts_by_country_sorted]
        changelog = _changelog_text(release.pk, release.sha256)
    types = [t for t in map_types(release) if t["count"] or release is None]
    return render(request, "portal/shop/home.html", {
        "release": release,
        "brands": device_brands(),
        "device_count": len(DEVICES),
        "countries": countries,
        "changelog": changelog,
        "types": types,
        "map_config": map_config(release),
        "map_texts": map_texts(),
    })


# A count in each CLDR plural category of the language, for the map's "N cameras" line that
# the script writes (Intl.PluralRules picks the category; ngettext gives each its form).
_PLURAL_SAMPLES = (0, 1, 2, 3, 4, 5, 6, 11, 12, 21, 22, 25, 100, 101, 102, 1_000_000)


def _plural_forms(text) -> dict[str, str]:
    from babel import Locale
    locale = Locale.parse((get_language() or "en").replace("-", "_"))
    forms: dict[str, str] = {}
    for n in _PLURAL_SAMPLES:
        forms.setdefault(locale.plural_form(n), text(n))
    return forms


def map_texts() -> dict:
    """What portal/static/portal/map.js writes, in the page's language (placeholders in
    %(name)s form, which the script fills in); made once per language (read only)."""
    return _map_texts(get_language() or "en")


@lru_cache(maxsize=16)
def _map_texts(language: str) -> dict:
    return {
        "lang": language,
        "devices": _plural_forms(lambda n: ngettext("%(count)s device", "%(count)s devices", n)),
        "cameras_here": _plural_forms(lambda n: ngettext(
            "%(count)s camera in this area (release %(number)s of %(date)s).",
            "%(count)s cameras in this area (release %(number)s of %(date)s).", n)),
        "cluster_title": _plural_forms(lambda n: ngettext("%(count)s camera", "%(count)s cameras", n)),
        "speed": _("%(speed)s km/h"),
        "speed_unknown": _("speed unknown"),
        "camera_number": _("camera #%(id)s"),
        "no_release": _("No release has been published yet."),
        "no_library": _("The map library could not be loaded."),
        "loading": _("Loading…"),
        "failed": _("The map data could not be loaded: %(error)s"),
    }


# ---------------------------------------------------------------------------------------
# Cluster endpoint


# MapData per release (the two newest), built once per process.
MAP_DATA: LRU[mapdata.MapData] = LRU(2)


def map_data(release: Release) -> mapdata.MapData:
    return MAP_DATA.get(release.sha256, lambda: mapdata.MapData(release_index(release)))


def _release_info(release: Release) -> dict:
    return {"number": release.number, "date": release.created_at.date().isoformat(),
            "cameras": release.camera_count}


def _etag_matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


@require_safe
def map_clusters(request):
    """GET /map/clusters.json?bbox=west,south,east,north&zoom=Z[&types=slug,slug]"""
    try:
        q = mapdata.parse_query(request.GET)
    except mapdata.MapQueryError as exc:
        return JsonResponse(exc.as_dict(), status=400)
    release = latest_release(changelog=False, missing_ok=True)
    if release is None:
        response = HttpResponse(mapdata.encode(mapdata.clusters(None, q, None)), content_type="application/json")
        response["Cache-Control"] = "no-cache"
        return response

    etag = quote_etag(mapdata.cache_key(f"{release.sha256}:{release.number}", q))
    if _etag_matches(request, etag):
        response = HttpResponse(status=304)
    else:
        key = f"portal:map:{etag.strip(chr(34))}"
        body = cache.get(key)
        if body is None:
            body = mapdata.clusters_json(map_data(release), q, _release_info(release))
            cache.set(key, body, CLUSTER_CACHE_SECONDS)
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={CLUSTER_MAX_AGE}"
    return response


@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for on every site: the static icon (its hashed
    name in production, so the redirect is permanent and the icon itself cached)."""
    return redirect(static("portal/favicon.ico"), permanent=True)
