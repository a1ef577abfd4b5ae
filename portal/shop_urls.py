from django.urls import path

from . import shop_views

urlpatterns = [
    path("devices/<slug:device_id>/", shop_views.device_page, name="device"),
    path("devices/<slug:device_id>/size.json", shop_views.size_json, name="device-size"),
    path("devices/<slug:device_id>/checkout/", shop_views.checkout_page, name="checkout"),
    path("devices/<slug:device_id>/checkout/start/", shop_views.checkout_start, name="checkout-start"),
    path("orders/<uuid:public_id>/", shop_views.order_page, name="order"),
    path("orders/<uuid:public_id>/pay/", shop_views.order_pay, name="order-pay"),
    path("orders/<uuid:public_id>/status.json", shop_views.order_status, name="order-status"),
    path("stripe/webhook/", shop_views.stripe_webhook, name="stripe-webhook"),
    path("download/<str:token>/", shop_views.download, name="download"),
]
