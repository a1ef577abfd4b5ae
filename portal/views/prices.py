"""The price list: every device, coverage, mobile option and the annual subscription, with
the pricing rule, the file sizes and the countries of each region (``services.pricelist``)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from cameras.exporting import latest_release

from portal.services import naming, pricelist


@require_safe
def price_list(request):
    release = latest_release(changelog=False, missing_ok=True)
    codes = pricelist.coverages()
    sizes = pricelist.ready_sizes(release) if release is not None else None
    return render(request, "portal/shop/prices.html", {
        "release": release, "sizes": sizes is not None, "groups": pricelist.rows(release, sizes),
        "rule": pricelist.rule(),
        "regions": pricelist.region_infos(codes), "coverage_names": [naming.code_name(code) for code in codes],
    })
