"""Every URL of the site, in one table. Each name starts with the part of the site it belongs to
(home-, shop-, webhook-, download-, accounts-, panel-, pages-), the module of portal/views/ that serves it
(pages-: views/pages.py; accounts-data and accounts-delete: views/privacy.py)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from portal import admin as portal_admin
from portal.views import accounts, downloads, home, invoices, labels, language, pages, panel, prices, privacy, shop, webhook

PURCHASE = "account/devices/<uuid:public_id>/"

# Not pages, so never in another language: the webhook, the emailed download link, the icon,
# the language chooser and the admin
urlpatterns = [
    path("favicon.ico", home.favicon, name="home-favicon"),
    path("stripe/webhook/", webhook.stripe_webhook, name="webhook-stripe"),
    path("download/<str:token>/", downloads.link_download, name="download-link"),
    path("i18n/<str:language>/", language.choose, name="language-choose"),
    # the admin's login behind the panel login's locks (portal.admin.AdminLoginView)
    path("admin/login/", portal_admin.AdminLoginView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
]

# The pages, in every language of settings.LANGUAGES: /fr/prices/ is French; English has no
# prefix, so the addresses of the English-only site (and links already emailed) still work.
# portal.lib.language sends an unprefixed page to the customer's language.
urlpatterns += i18n_patterns(
    # Home page, device picker and the preview map
    path("", home.home, name="home-page"),
    path("map/clusters.json", home.map_clusters, name="home-map-clusters"),

    # Shop: device pages, checkout, payment and the order page
    path("prices/", prices.price_list, name="shop-prices"),
    path("devices/<slug:device_id>/", shop.device_page, name="shop-device"),
    path("devices/<slug:device_id>/size.json", shop.size_json, name="shop-device-size"),
    path("devices/<slug:device_id>/checkout/", shop.checkout_page, name="shop-checkout"),
    path("devices/<slug:device_id>/checkout/start/", shop.checkout_start, name="shop-checkout-start"),
    path("orders/<uuid:public_id>/", shop.order_page, name="shop-order"),
    path("orders/<uuid:public_id>/pay/", shop.order_pay, name="shop-order-pay"),
    path("orders/<uuid:public_id>/status.json", shop.order_status, name="shop-order-status"),

    # Downloads: the signed link from an email, and the panel's link (below)

    # Accounts: login, logout, passwords
    path("account/login/", accounts.LoginView.as_view(), name="accounts-login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="accounts-logout"),
    path("account/password/", accounts.PasswordChangeView.as_view(), name="accounts-password-change"),
    path("account/password/reset/", accounts.PasswordResetView.as_view(), name="accounts-password-reset"),
    path("account/password/reset/sent/",
         auth_views.PasswordResetDoneView.as_view(template_name="portal/accounts/password_reset_sent.html"),
         name="accounts-password-reset-sent"),
    path("account/password/reset/<uidb64>/<token>/", accounts.PasswordResetConfirmView.as_view(),
         name="accounts-password-reset-confirm"),

    # Customer panel
    path("account/", panel.home, name="panel-home"),
    path("account/language/", panel.save_language, name="panel-language"),
    path("account/add-device/", panel.add_device, name="panel-add-device"),
    path(PURCHASE, panel.order_detail, name="panel-order"),
    path(PURCHASE + "status.json", panel.order_status, name="panel-status"),
    path(PURCHASE + "download/<str:token>/", downloads.panel_download, name="download-panel"),
    path(PURCHASE + "changes.png", panel.changes_map, name="panel-changes-map"),
    path(PURCHASE + "icons/", panel.save_icons, name="panel-icons"),
    path(PURCHASE + "options/", panel.save_options, name="panel-options"),
    path(PURCHASE + "label/", labels.save_label, name="panel-label"),
    path(PURCHASE + "coverage/", panel.coverage, name="panel-coverage"),
    path(PURCHASE + "coverage/size.json", panel.coverage_size, name="panel-coverage-size"),
    path(PURCHASE + "coverage/fit.json", panel.coverage_fit, name="panel-coverage-fit"),
    path(PURCHASE + "coverage/map.png", panel.coverage_map, name="panel-coverage-map"),
    path("account/purchases/<uuid:public_id>/upgrade/", panel.upgrade, name="panel-upgrade"),
    path("account/purchases/<uuid:public_id>/cancel-renewal/", panel.cancel, name="panel-cancel"),
    path("account/purchases/<uuid:public_id>/new-release-emails/", panel.new_release_emails,
         name="panel-new-release-emails"),
    path("account/purchases/<uuid:public_id>/report/", panel.report, name="panel-report"),

    # Invoices and credit notes (PDF), the customer's own
    path("account/invoices/<uuid:invoice_id>.pdf", invoices.pdf, name="invoices-pdf"),
    # Help, contact and legal pages; the customer's data (download, delete the account)
    path("help/", pages.help_page, name="pages-help"),
    path("contact/", pages.contact_page, name="pages-contact"),
    path("legal/terms/", pages.legal_page, {"page": "terms"}, name="pages-terms"),
    path("legal/privacy/", pages.legal_page, {"page": "privacy"}, name="pages-privacy"),
    path("legal/notice/", pages.legal_page, {"page": "notice"}, name="pages-notice"),
    path("legal/refunds/", pages.legal_page, {"page": "refunds"}, name="pages-refunds"),
    path("legal/camera-laws/", pages.legal_page, {"page": "camera_laws"}, name="pages-legal-notes"),
    path("account/data.json", privacy.data_download, name="accounts-data"),
    path("account/delete/", privacy.delete_account, name="accounts-delete"),
    prefix_default_language=False,
)
