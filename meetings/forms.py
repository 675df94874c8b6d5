"""Forms of the clerk's meeting pages. They validate with the models' rules; services write."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from council.formfields import DateInput, TimeInput, https_urls
from council.models import Body
from meetings.models import AgendaItem, Session, Sitting
from meetings.selectors import next_sitting_number, next_sitting_numbers
from meetings.services.agenda import AGENDA_TEMPLATES


class SessionForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = ["kind", "year", "number", "start_date", "end_date"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args, council, **kw):
        super().__init__(*args, **kw)
        self.instance.council = council

    def validate_unique(self):
        # council is not a form field, so check the (council, year, number) constraint ourselves.
        super().validate_unique()
        data = self.cleaned_data
        if {"year", "number"} <= data.keys():
            clash = Session.objects.filter(
                council=self.instance.council, year=data["year"], number=data["number"]
            )
            if clash.exclude(pk=self.instance.pk).exists():
                self.add_error(
                    "number", _("This council already has a session with that number in that year.")
                )


class SittingForm(forms.ModelForm):
    template = forms.ChoiceField(label=_("Start the order of business from"), required=False)

    class Meta:
        model = Sitting
        fields = ["body", "number", "date", "start_time", "place", "is_public", "livestream_url"]
        widgets = {"date": DateInput(), "start_time": TimeInput()}
        formfield_callback = https_urls

    def __init__(self, *args, session: Session, **kw):
        super().__init__(*args, **kw)
        self.instance.session = session
        # Every body is offered, so that a body of another council is refused with a message (not hidden).
        self.fields["body"].queryset = Body.objects.select_related("council").order_by(
            "council_id", "order", "id"
        )
        self.fields["template"].choices = [("", _("Empty order of business"))] + [
            (key, template.label) for key, template in AGENDA_TEMPLATES.items()
        ]
        # 第n号 counts the sittings of the chosen body in this session: left blank, it is filled in;
        # the page's script follows a change of body with the next number from this map.
        self.fields["number"].required = False
        self.fields["number"].help_text = _(
            "Counted per body within the session; leave blank for the next number."
        )
        self.fields["body"].widget.attrs["data-next-numbers"] = json.dumps(
            {str(k): v for k, v in next_sitting_numbers(session).items()}
        )

    def clean(self):
        data = super().clean()
        if data.get("number") is None and data.get("body") is not None:
            data["number"] = next_sitting_number(session=self.instance.session, body=data["body"])
            self.instance.number = data["number"]
        return data

    def validate_unique(self):
        super().validate_unique()
        data = self.cleaned_data
        if {"body", "number"} <= data.keys():
            clash = Sitting.objects.filter(
                session=self.instance.session, body=data["body"], number=data["number"]
            )
            if clash.exclude(pk=self.instance.pk).exists():
                self.add_error(
                    "number", _("This body already has a sitting with that number in this session.")
                )


class SessionDatesForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = ["start_date", "end_date"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}


class SittingEditForm(forms.ModelForm):
    class Meta:
        model = Sitting
        fields = ["date", "start_time", "place", "is_public", "livestream_url"]
        widgets = {"date": DateInput(), "start_time": TimeInput()}
        formfield_callback = https_urls


class AgendaItemForm(forms.ModelForm):
    class Meta:
        model = AgendaItem
        fields = ["kind", "title", "title_en", "bill_number", "description", "closed_session"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("Give the item a title."))
        return title

    def clean(self):
        data = super().clean()
        if data.get("kind") == AgendaItem.Kind.BILL and not data.get("bill_number"):
            self.add_error("bill_number", _("A bill needs its number (e.g. 議案第45号)."))
        return data
