"""``{% load names %}``: the customer's names for the codes an order stores, and counts of
cameras worded once (``portal.services.naming``)."""

from django import template

from portal.services import naming

register = template.Library()

register.filter("cameras", naming.cameras)
register.filter("coverage_name", naming.coverage_name)
register.filter("country_name", naming.country_name)
register.filter("icon_set_name", naming.icon_set_name)
register.filter("fr_zone_mode_name", naming.fr_zone_mode_name)
register.filter("speed_unit_name", naming.speed_unit_name)
register.filter("device_name", naming.device_name)
register.filter("order_number", naming.order_number)
