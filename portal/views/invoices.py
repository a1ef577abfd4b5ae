"""The customer's invoices and credit notes as PDF, from the panel. Filtered by owner: another
customer's (or an unknown) invoice id is a 404; an anonymous visitor goes to the login page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.models import Invoice
from portal.services import invoice_pdf


@never_cache
@login_required
@require_GET
def pdf(request, public_id):
    invoice = (Invoice.objects.select_related("credited").filter(public_id=public_id, user=request.user).first())
    if invoice is None:
        raise Http404("no such invoice")
    response = HttpResponse(invoice_pdf.render(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_pdf.filename(invoice)}"'
    return response
