"""``{% purchase_extra order as x %}``: what templates/portal/panel/purchase_extra.html shows
for one purchase (the annual upgrade offer, the subscription state, error reports)."""

from django import template
from django.conf import settings
from django.utils import timezone

from portal.services import entitlement, reports, subscriptions
from portal.services.pricing import format_amount

register = template.Library()


@register.simple_tag
def purchase_extra(order):
    now = timezone.now()
    annual = order.plan == "annual"
    return {
        "can_upgrade": subscriptions.can_upgrade(order, now),
        "upgrade_deadline": subscriptions.upgrade_deadline(order),
        "annual_until": entitlement.add_months(now, subscriptions.ANNUAL_MONTHS),
        "one_time_until": entitlement.one_time_until(order),
        "upgrade_cost": format_amount(subscriptions.upgrade_cost(order), order.currency),
        "annual_price": format_amount(subscriptions.annual_price(order), order.currency),
        "annual": annual,
        "running": entitlement.subscription_running(order, now),
        "status": order.subscription_status if annual else "",
        "end": order.subscription_end,
        "reports": list(order.reports.defer("screenshot")),  # the list shows no screenshot
        "report_form": reports.ReportForm(),
        "can_report": order.is_paid,
        "report_max_bytes": settings.REPORT_MAX_BYTES,
    }
