"""A manager's upload of an order export: the same import as `manage.py import_orders`, for small files."""

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intake.imports import ImportRefused, orders_import

from ..permissions import manager_required


class OrderImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Order export (CSV)"))
    format = forms.ChoiceField(label=gettext_lazy("Exported from"), choices=[
        ("shopify", "Shopify"), ("woocommerce", "WooCommerce"), ("generic", gettext_lazy("Generic CSV")),
    ])
    encoding = forms.ChoiceField(label=gettext_lazy("Encoding"), required=False, choices=[
        ("", gettext_lazy("Detect")), ("utf-8", "UTF-8"), ("cp1250", "Windows-1250"),
        ("cp1251", "Windows-1251"), ("cp1252", "Windows-1252"),
    ])
    dry_run = forms.BooleanField(label=gettext_lazy("Dry run: check and count, write nothing"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.INTAKE_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_(
                "The file is larger than %(size)d MB: import it with manage.py import_orders instead."
            ) % {"size": settings.INTAKE_UPLOAD_MAX_BYTES // 1_000_000})
        return upload


@manager_required
def order_import(request):
    report = None
    form = OrderImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            upload = data["file"]
            upload.seek(0)
            report = orders_import(stream=upload.file, fmt=data["format"], dry_run=data["dry_run"],
                                   encoding=data["encoding"] or None)
        except ImportRefused as exc:
            form.add_error("file", str(exc))
        status = 200
    else:
        status = 400 if request.method == "POST" else 200
    if form.errors:
        status = 400
    return render(request, "dashboard/import_orders.html",
                  {"form": form, "report": report, "dry_run": form.cleaned_data.get("dry_run") if report else False},
                  status=status)
