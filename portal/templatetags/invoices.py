"""``{% customer_invoices user as rows %}``: the account's invoices and credit notes, newest
first, for templates/portal/panel/invoices.html (the panel includes it)."""

from django import template

from portal.models import Invoice
from portal.services.pricing import format_amount

register = template.Library()


@register.simple_tag
def customer_invoices(user):
    if not getattr(user, "is_authenticated", False):
        return []
    return [{"invoice": inv, "gross": format_amount(inv.gross, inv.currency),
             "vat": format_amount(inv.vat, inv.currency)}
            for inv in Invoice.objects.filter(user=user).order_by("-issued_at", "-pk")[:200]]
