import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    # the language of the customer's emails and package INSTALL.txt (settings.LANGUAGES);
    # set from the page the first purchase was made on, changeable in the panel
    language = models.CharField(max_length=8, default="en")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    def __str__(self):
        return self.email


# What the shop and the panel offer for the speed unit and the French cameras (value, label).
SPEED_UNIT_CHOICES = [
    ("auto", _("each country's unit (mph in the UK and the US, km/h elsewhere)")),
    ("kmh", _("km/h everywhere")),
    ("mph", _("mph everywhere")),
]
FR_ZONE_MODE_CHOICES = [
    ("legal", _("danger zones, as French law requires (no exact position, no speed)")),
    ("exact", _("exact camera positions and speeds (not for use in France)")),
]
FR_ZONE_MODE_HELP = _("French law (Code de la route art. R413-15, décret n° 2012-3) forbids signalling where speed "
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
        PENDING = "pending", _("awaiting payment")
        PAID = "paid", _("paid")
        FAILED = "failed", _("payment failed")
        REFUNDED = "refunded", _("refunded")

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
    # the language of the page the order was placed on (settings.LANGUAGES); its emails and
    # INSTALL.txt follow the account's language once the order has one (``Order.customer_language``)
    language = models.CharField(max_length=8, default="en")
    amount = models.PositiveIntegerField(help_text="in the currency's smallest unit (cents)")
    currency = models.CharField(max_length=3, default="eur")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    failure_message = models.TextField(blank=True)
    stripe_customer = models.CharField(max_length=64, blank=True)
    setup_intent = models.CharField(max_length=64, blank=True, help_text="orders paid before checkout saved cards directly")
    payment_method = models.CharField(max_length=64, blank=True, help_text="the card saved at checkout (Stripe id)")
    payment_intent = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # One checkout page = one order = one payment: the key the page carries (Back and reload
    # keep it), so paying again from that page finds this order instead of making another.
    checkout = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # The charge in progress (a second request for the same order waits, it does not charge
    # again) and how many were tried (a declined card may be retried on the same checkout).
    charge_started_at = models.DateTimeField(null=True, blank=True)
    charge_attempts = models.PositiveSmallIntegerField(default=0)
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
    upgraded_at = models.DateTimeField(null=True, blank=True, help_text="when the purchase became annual")
    upgrade_amount = models.PositiveIntegerField(default=0, help_text="what the upgrade charged (cents)")
    # VAT evidence (portal.services.vat): the billing country asked at checkout, the country of
    # the card that paid (Stripe's PaymentMethod card.country) and of the buyer's IP address
    # (portal.services.geo); ISO 3166-1 alpha-2, "" when unknown.
    billing_country = models.CharField(max_length=2, blank=True)
    card_country = models.CharField(max_length=2, blank=True)
    ip_country = models.CharField(max_length=2, blank=True)
    # the countries whose legal note (cameras.legal) the customer acknowledged at checkout
    legal_ack = models.JSONField(default=list, blank=True)
    # the customer's own name for the purchase ("Dad's car"), told apart from an identical one
    label = models.CharField(max_length=LABEL_MAX, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Order {self.public_id} ({self.device_id}, {self.email})"

    @property
    def customer_language(self) -> str:
        """The language of this order's emails and INSTALL.txt: the account's (the customer
        can change it in the panel), else the one the order was placed in."""
        return (self.user.language if self.user_id and self.user.language else self.language) or "en"

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
        RECEIPT = "receipt", "a receipt with its invoice (key: the invoice number)"

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
        OPEN = "open", _("open")
        REPACKAGED = "repackaged", _("a new file was sent")
        REFUNDED = "refunded", _("refunded")
        CLOSED = "closed", _("closed")

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


class InvoiceSequence(models.Model):
    """The last number issued in a series ("INV-2026", "CN-2026"): the row is locked while an
    invoice takes the next number, in the transaction that creates the invoice, so numbers
    are gap-free (a rolled-back payment gives its number back) and never duplicated."""

    series = models.CharField(max_length=32, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.series}: {self.last}"


class Invoice(models.Model):
    """An invoice (or a credit note, with negative amounts) for one payment: an immutable
    snapshot of who paid what, with its VAT, that survives the order and the account (both
    links are SET_NULL; everything the document shows is copied here). Issued by
    ``portal.services.invoices`` only; never changed after (``save`` refuses)."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "invoice"
        CREDIT_NOTE = "credit-note", "credit note"

    class Reason(models.TextChoices):
        PURCHASE = "purchase", "purchase"
        UPGRADE = "upgrade", "annual upgrade"
        RENEWAL = "renewal", "subscription renewal"
        REFUND = "refund", "refund"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INVOICE)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    series = models.CharField(max_length=32)
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=48, unique=True)
    # what the invoice is for, unique: a webhook retried, a task run twice issue it once
    source = models.CharField(max_length=128, unique=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    credited = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes",
                                 help_text="the invoice a credit note refers to")
    issued_at = models.DateTimeField(default=timezone.now, db_index=True)
    buyer_email = models.EmailField()
    billing_country = models.CharField(max_length=2, blank=True)
    card_country = models.CharField(max_length=2, blank=True)
    ip_country = models.CharField(max_length=2, blank=True)
    lines = models.JSONField(default=list, help_text="[{description, amount}]: amounts VAT included, in cents")
    currency = models.CharField(max_length=3)
    net = models.IntegerField(help_text="cents; negative on a credit note")
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="percent")
    vat = models.IntegerField()
    gross = models.IntegerField()
    vat_note = models.CharField(max_length=200, blank=True)
    updates_until = models.DateTimeField(null=True, blank=True, help_text="until when updates are included")

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["series", "sequence"], name="one_invoice_per_series_number")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(f"invoice {self.number} is issued: it cannot be changed (issue a credit note)")
        super().save(*args, **kwargs)
class ContactMessage(models.Model):
    """A message from the contact page, with an optional callback request. Staff answer it in
    the admin; the confirmation and the answer are each emailed once (``services.contact``)."""

    name = models.CharField(max_length=100)
    email = models.EmailField()
    message = models.TextField()
    callback = models.BooleanField(default=False, help_text="the customer asked to be called back")
    phone = models.CharField(max_length=32, blank=True)
    preferred_time = models.CharField(max_length=100, blank=True, help_text="when to call, in the customer's words")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact_messages")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True, help_text="emailed to the customer once, when saved")
    answered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_sent_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=8, default="en", help_text="the language of the page it was sent from")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Message {self.pk} from {self.email}"
