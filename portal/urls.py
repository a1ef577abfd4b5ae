"""Every URL of the site, in one table. The names carry the part of the site they belong to."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from portal.views import accounts, downloads, home, panel, shop, webhook

PURCHASE = "account/devices/<uuid:public_id>/"

urlpatterns = [
    # Home page, device picker and the preview map
    path("", home.home, name="home"),
    path("map/clusters.json", home.map_clusters, name="map-clusters"),

    # Shop: device pages, checkout, payment and the order page
    path("devices/<slug:device_id>/", shop.device_page, name="device"),
    path("devices/<slug:device_id>/size.json", shop.size_json, name="device-size"),
    path("devices/<slug:device_id>/checkout/", shop.checkout_page, name="checkout"),
    path("devices/<slug:device_id>/checkout/start/", shop.checkout_start, name="checkout-start"),
    path("orders/<uuid:public_id>/", shop.order_page, name="order"),
    path("orders/<uuid:public_id>/pay/", shop.order_pay, name="order-pay"),
    path("orders/<uuid:public_id>/status.json", shop.order_status, name="order-status"),
    path("stripe/webhook/", webhook.stripe_webhook, name="stripe-webhook"),

    # Downloads: the signed link from an email, and the panel's link (below)
    path("download/<str:token>/", downloads.link_download, name="download"),

    # Accounts: login, logout, passwords
    path("account/login/", accounts.LoginView.as_view(), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="panel-logout"),
    path("account/password/", accounts.PasswordChangeView.as_view(), name="panel-password-change"),
    path("account/password/reset/", accounts.PasswordResetView.as_view(), name="panel-password-reset"),
    path("account/password/reset/sent/",
         auth_views.PasswordResetDoneView.as_view(template_name="portal/accounts/password_reset_sent.html"),
         name="panel-password-reset-sent"),
    path("account/password/reset/<uidb64>/<token>/", accounts.PasswordResetConfirmView.as_view(),
         name="panel-password-reset-confirm"),

    # Customer panel
    path("account/", panel.home, name="panel-home"),
    path("account/", panel.home, name="account"),
    path("account/add-device/", panel.add_device, name="panel-add-device"),
    path(PURCHASE, panel.order_detail, name="panel-order"),
    path(PURCHASE + "status.json", panel.order_status, name="panel-status"),
    path(PURCHASE + "download/<str:token>/", downloads.panel_download, name="panel-download"),
    path(PURCHASE + "changes.png", panel.changes_map, name="panel-changes-map"),
    path(PURCHASE + "icons/", panel.save_icons, name="panel-icons"),
    path(PURCHASE + "coverage/", panel.coverage, name="panel-coverage"),
    path(PURCHASE + "coverage/size.json", panel.coverage_size, name="panel-coverage-size"),
    path(PURCHASE + "coverage/fit.json", panel.coverage_fit, name="panel-coverage-fit"),
    path(PURCHASE + "coverage/map.png", panel.coverage_map, name="panel-coverage-map"),
    path("account/purchases/<uuid:public_id>/upgrade/", panel.upgrade, name="extra-upgrade"),
    path("account/purchases/<uuid:public_id>/cancel-renewal/", panel.cancel, name="extra-cancel"),
    path("account/purchases/<uuid:public_id>/new-release-emails/", panel.new_release_emails,
         name="extra-new-release-emails"),
    path("account/purchases/<uuid:public_id>/report/", panel.report, name="extra-report"),

    path("admin/", admin.site.urls),
]
