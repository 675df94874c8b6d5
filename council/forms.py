"""Forms of the clerk's organisation pages. They validate with the models' rules; services write."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council import services
from council.formfields import DateInput, https_urls
from council.models import Body, Caucus, Council, Membership, Person


class BodyForm(forms.ModelForm):
    class Meta:
        model = Body
        fields = services.BODY_FIELDS  # what body_save accepts, and nothing else
        formfield_callback = https_urls

    def __init__(self, *args, council: Council, **kw):
        super().__init__(*args, **kw)
        self.instance.council = council

    def validate_unique(self):
        super().validate_unique()
        name = self.cleaned_data.get("name")
        if (
            name
            and Body.objects.filter(council=self.instance.council, name=name)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error("name", _("A body with this name already exists."))


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = services.PERSON_FIELDS  # what person_save accepts, and nothing else

    def __init__(self, *args, council: Council, **kw):
        super().__init__(*args, **kw)
        self.instance.council = council
        self.fields["caucus"].queryset = Caucus.objects.filter(council=council)

    def validate_unique(self):
        # Person.validate_constraints checks the active-seat rule only when council is a form field,
        # so check it here with the same message.
        super().validate_unique()
        seat = self.cleaned_data.get("seat_number")
        if seat is not None and self.cleaned_data.get("active", True):
            clash = Person.objects.filter(council=self.instance.council, seat_number=seat, active=True)
            if clash.exclude(pk=self.instance.pk).exists():
                self.add_error("seat_number", _("This seat number is already taken."))


class MembershipForm(forms.Form):
    person = forms.ModelChoiceField(label=_("Councillor"), queryset=Person.objects.none())
    role = forms.ChoiceField(label=_("role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
    start = forms.DateField(label=_("from"), widget=DateInput())

    def __init__(self, *args, body: Body, **kw):
        super().__init__(*args, **kw)
        self.fields["person"].queryset = Person.objects.filter(
            council=body.council, kind=Person.Kind.COUNCILLOR, active=True
        )
        self.fields["start"].initial = timezone.localdate()


class OfficerForm(forms.Form):
    person = forms.ModelChoiceField(label=_("Councillor"), queryset=Person.objects.none())
    role = forms.ChoiceField(
        label=_("role"),
        choices=[
            (Membership.Role.CHAIR, Membership.Role.CHAIR.label),
            (Membership.Role.VICE_CHAIR, Membership.Role.VICE_CHAIR.label),
        ],
    )
    on = forms.DateField(label=_("from"), widget=DateInput())

    def __init__(self, *args, body: Body, **kw):
        super().__init__(*args, **kw)
        # All councillors are offered so that choosing a non-member is refused with a message.
        self.fields["person"].queryset = Person.objects.filter(
            council=body.council, kind=Person.Kind.COUNCILLOR, active=True
        )
        self.fields["on"].initial = timezone.localdate()


class EndMembershipForm(forms.Form):
    end = forms.DateField(label=_("last day"), widget=DateInput())


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file (UTF-8)"))
    start = forms.DateField(label=_("Memberships start on"), widget=DateInput())

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.fields["start"].initial = timezone.localdate()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The file is too large (at most 2 MB)."))
        raw = upload.read()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                _("The file is not UTF-8 text (save it as UTF-8, with or without BOM).")
            ) from exc
