"""The portal app: registers the admin pages and connects the release fan-out."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Shop and customer panel"

    def ready(self):
        # Imported here, not at the top: these modules import models, which Django can load
        # only once every app is registered -- at the top it would be a loop with Django's
        # own start-up (settings -> apps -> models).
        import django.contrib.auth.admin  # noqa: F401  (groups)

        import cameras.admin  # noqa: F401  (loop with the app registry, see above)
        import portal.admin  # noqa: F401  (loop with the app registry, see above)
        from cameras.signals import release_published  # (loop with the app registry, see above)
        from portal.services.fanout import on_release_published  # (loop with the app registry, see above)

        # Publishing a release fans the package builds out to the workers.
        release_published.connect(on_release_published, dispatch_uid="portal.fanout")
