import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or staff member; the login is the email address."""

    email = models.EmailField("email address", unique=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    def __str__(self):
        return self.email


# What the shop and the panel offer for the speed unit and the French cameras (value, label).
SPEED_UNIT_CHOICES = [
    ("auto", "each country's unit (mph in the UK and the US, km/h elsewhere)"),
    ("kmh", "km/h everywhere"),
    ("mph", "mph everywhere"),
]
FR_ZONE_MODE_CHOICES = [
    ("legal", "danger zones, as French law requires (no exact position, no speed)"),
    ("exact", "exact camera positions and speeds (not for use in France)"),
]
FR_ZONE_MODE_HELP = ("French law (Code de la route art. R413-15, décret n° 2012-3) forbids signalling where speed "
                     "cameras are, for every driver in France: only danger zones are allowed. The legal mode shows "
                     "each French camera as a danger zone of at least 300 m in built-up areas, 2 km on other roads "
                     "and 4 km on motorways, with no exact position and no speed.")


LABEL_MAX = 40  # characters of a purchase's own name


class Order(models.Model):
    """One purchase: a device file with its options and coverage, paid with Stripe.

    The amount is computed on the server (``portal.pricing``) when the order is created and
    never changes. ``public_id`` is what URLs and Stripe metadata carry. Fulfilment sets
    ``user`` and ``fulfilled_at`` exactly once (``portal.fulfilment``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "awaiting payment"
        PAID = "paid", "paid"
        FAILED = "failed", "payment failed"
        REFUNDED = "refunded", "refunded"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField()
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    device_id = models.CharField(max_length=64)
    mobile = models.BooleanField(default=False)
    icons = models.CharField(max_length=16, default="speed")
    coverage = models.JSONField(default=list, help_text="country codes and region slugs")
    # the speed unit of names, file names and icons (ExportOptions.speed_unit)
    speed_unit = models.CharField(max_length=8, choices=SPEED_UNIT_CHOICES, default="auto")
    # cameras in France: "legal" = danger zones (ExportOptions.fr_danger_zones, when the
    # coverage includes France), "exact" = exact positions; orders placed before the choice
    # existed keep "exact" (their files do not change unasked)
    fr_zone_mode = models.CharField(max_length=8, choices=FR_ZONE_MODE_CHOICES, default="legal")
    amount = models.PositiveIntegerField(help_text="in the currency's smallest unit (cents)")
    currency = models.CharField(max_length=3, default="eur")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    failure_message = models.TextField(blank=True)
    stripe_customer = models.CharField(max_length=64, blank=True)
    setup_intent = models.CharField(max_length=64, blank=True)
    payment_intent = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    release = models.ForeignKey("cameras.Release", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", help_text="the release the latest file was built from")
    package_key = models.CharField(max_length=64, blank=True)
    package_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    package_error = models.TextField(blank=True)
    # The annual subscription a one-time purchase may become (within 7 days of buying it).
    plan = models.CharField(max_length=16, choices=[("one-time", "one-time purchase"), ("annual", "annual subscription")],
                            default="one-time")
    subscription_id = models.CharField(max_length=64, blank=True)
    subscription_status = models.CharField(max_length=16, blank=True,
                                           help_text="active, canceled (no renewal) or ended")
    subscription_end = models.DateTimeField(null=True, blank=True)
    email_new_releases = models.BooleanField(default=False)
    # the customer's own name for the purchase ("Dad's car"), told apart from an identical one
    label = models.CharField(max_length=LABEL_MAX, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Order {self.public_id} ({self.device_id}, {self.email})"

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID

    @property
    def file_ready(self) -> bool:
        return self.is_paid and bool(self.package_key)


class StripeEvent(models.Model):
    """Every Stripe webhook event, stored once by its id: a replay is a no-op."""

    id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.type} {self.id}"


class EmailRecord(models.Model):
    """An email sent about an order, at most once per kind (a task that runs twice sends once)."""

    class Kind(models.TextChoices):
        FILE = "file", "the file"
        ACCOUNT = "account", "new account login"
        DEVICE_ADDED = "device-added", "device added to an account"
        NEW_RELEASE = "new-release", "a new release for a subscription"
        RENEWAL_REMINDER = "renewal-reminder", "subscription renewal reminder"
        STALE_FILE = "stale-file", "file older than six months"
        REPACKAGED = "repackaged", "a rebuilt file after an error report"
        REPORT_OUTCOME = "report-outcome", "the outcome of an error report"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What makes a repeated kind a different email (a release number, a period end, a
    # report id); empty for the once-per-order kinds.
    key = models.CharField(max_length=64, blank=True, default="")
    to = models.EmailField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "kind", "key"], name="one_email_per_order_kind_key")]

    def __str__(self):
        return f"{self.kind} email for {self.order_id}"


class Download(models.Model):
    """A file a customer downloaded (from the panel or a link): the release it was built from."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="downloads")
    release = models.ForeignKey("cameras.Release", null=True, on_delete=models.SET_NULL, related_name="+")
    package_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=16, default="panel")

    class Meta:
        ordering = ["-created_at"]


class ErrorReport(models.Model):
    """A device error a customer reports for a purchase; staff repackage or refund."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        REPACKAGED = "repackaged", "a new file was sent"
        REFUNDED = "refunded", "refunded"
        CLOSED = "closed", "closed"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reports")
    text = models.TextField()
    screenshot = models.BinaryField(null=True, blank=True, editable=False)
    screenshot_type = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    outcome = models.TextField(blank=True, help_text="what the customer is told")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Report {self.pk} on {self.order_id} ({self.status})"
