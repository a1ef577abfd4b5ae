"""The customer's invoices and credit notes as PDF, from the panel. Filtered by owner: another
customer's (or an unknown) invoice id is a 404; an anonymous visitor goes to the login page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache

from portal.models import Invoice
from portal.services import invoice_pdf


@never_cache
@login_required
def pdf(request, invoice_id):
    """The owner first (anyone else's or an unknown id: 404, whatever the method), then the method."""
    invoice = Invoice.objects.select_related("credited").filter(public_id=invoice_id, user=request.user).first()
    if invoice is None:
        raise Http404("no such invoice")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    response = HttpResponse(invoice_pdf.render(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_pdf.filename(invoice)}"'
    return response
