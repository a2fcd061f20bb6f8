from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    ROMANIAN = "ro", "Română"
    RUSSIAN = "ru", "Русский"
    ITALIAN = "it", "Italiano"


class Customer(models.Model):
    """Who the customer is. What they are worth comes from customers.selectors, never from this row."""

    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, e.g. RO")
    time_zone = models.CharField(max_length=64, default="UTC")
    customer_since = models.DateField(default=timezone.localdate)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(preferred_language__in=Language.values), name="customer_language_known"
            ),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    def clean(self):
        errors = {}
        if self.email:
            self.email = self.email.strip()
            clash = Customer.objects.filter(email__iexact=self.email).exclude(pk=self.pk)
            if clash.exists():
                errors["email"] = "Another customer already has this email address (emails are case-insensitive)."
        if self.country:
            self.country = self.country.upper()
            if len(self.country) != 2 or not self.country.isalpha():
                errors["country"] = "Use a two-letter ISO 3166 country code, e.g. RO."
        if self.time_zone:
            import zoneinfo

            try:
                zoneinfo.ZoneInfo(self.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                errors["time_zone"] = f"{self.time_zone} is not a known time zone (e.g. Europe/Bucharest)."
        if self.customer_since and self.customer_since > timezone.localdate():
            errors["customer_since"] = "A customer cannot be a customer since a future date."
        if errors:
            raise ValidationError(errors)
