"""Forms of the matters pages. They parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from council.models import Body, Person
from meetings.forms import DateInput
from meetings.matters import rules
from meetings.matters.models import Matter, MatterDocument, MatterSettings, QuestionCall
from meetings.matters.questions import ANSWERERS, MAX_TOPICS


class MatterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=rules.KINDS)
    number = forms.IntegerField(
        label=_("Number"),
        required=False,
        min_value=1,
        help_text=_("Leave empty for the next number of this kind."),
    )
    amends = forms.ModelChoiceField(
        label=_("Amends (for an amendment)"), queryset=Matter.objects.none(), required=False
    )
    title = forms.CharField(label=pgettext_lazy("matter", "Title"), max_length=300)
    title_en = forms.CharField(label=_("Title in English"), max_length=300, required=False)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    submitter_kind = forms.ChoiceField(label=_("Submitted by"), choices=Matter.Submitter.choices)
    submitter_body = forms.ModelChoiceField(
        label=_("Submitting committee"), queryset=Body.objects.none(), required=False
    )
    petitioner = forms.CharField(label=_("Petitioner"), max_length=200, required=False)
    submitted_on = forms.DateField(label=_("Submitted on"), widget=DateInput())
    proposers = forms.ModelMultipleChoiceField(
        label=_("Proposers (提出者)"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    seconders = forms.ModelMultipleChoiceField(
        label=_("Seconders (賛成者)"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    introducers = forms.ModelMultipleChoiceField(
        label=_("Introducing members (紹介議員)"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    def __init__(self, *args, session, **kw):
        super().__init__(*args, **kw)
        councillors = Person.objects.filter(council=session.council, kind=Person.Kind.COUNCILLOR, active=True)
        for name in ("proposers", "seconders", "introducers"):
            self.fields[name].queryset = councillors
        self.fields["submitter_body"].queryset = Body.objects.filter(council=session.council).exclude(
            kind=Body.Kind.PLENARY
        )
        self.fields["amends"].queryset = Matter.objects.filter(session=session).exclude(kind=rules.AMENDMENT)

    def sponsors(self) -> list:
        data = self.cleaned_data
        return (
            [(p, "proposer") for p in data["proposers"]]
            + [(p, "seconder") for p in data["seconders"]]
            + [(p, "introducer") for p in data["introducers"]]
        )


class DocumentLinkForm(forms.Form):
    document = forms.ModelChoiceField(label=_("Document"), queryset=None)
    role = forms.ChoiceField(
        label=pgettext_lazy("document role", "Role"), choices=MatterDocument.Role.choices
    )

    def __init__(self, *args, council, **kw):
        from documents.models import Document

        super().__init__(*args, **kw)
        self.fields["document"].queryset = Document.objects.filter(council=council).order_by("-created_at")


class ReportForm(forms.Form):
    remarks = forms.CharField(
        label=_("Remarks (意見)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class DeadlineForm(forms.Form):
    deadline = forms.DateTimeField(
        label=_("Deadline for notices"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class OrderForm(forms.Form):
    method = forms.ChoiceField(label=_("Speaking order"), choices=QuestionCall.Order.choices)


class QuestionForm(forms.Form):
    """Up to five topics, each with its subject, points and who is asked to answer."""

    def __init__(self, *args, initial_topics: list[dict] | None = None, **kw):
        super().__init__(*args, **kw)
        topics = initial_topics or []
        for n in range(MAX_TOPICS):
            topic = topics[n] if n < len(topics) else {}
            self.fields[f"subject_{n}"] = forms.CharField(
                label=_("Subject"), max_length=100, required=False, initial=topic.get("subject", "")
            )
            self.fields[f"points_{n}"] = forms.CharField(
                label=_("Points of the question"),
                required=False,
                max_length=2000,
                initial=topic.get("points", ""),
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"answerers_{n}"] = forms.MultipleChoiceField(
                label=_("Asked to answer"),
                choices=ANSWERERS,
                required=False,
                initial=topic.get("answerers", []),
                widget=forms.CheckboxSelectMultiple,
            )

    def topic_fields(self):
        return [
            (self[f"subject_{n}"], self[f"points_{n}"], self[f"answerers_{n}"]) for n in range(MAX_TOPICS)
        ]

    def topics(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "subject": data[f"subject_{n}"],
                "points": data[f"points_{n}"],
                "answerers": data[f"answerers_{n}"],
            }
            for n in range(MAX_TOPICS)
        ]


class MatterSettingsForm(forms.Form):
    """The council's rules for matters (会議規則): numbering, names in counted votes."""

    numbering = forms.ChoiceField(
        label=_("Numbering of matters"),
        choices=MatterSettings.Numbering.choices,
        widget=forms.RadioSelect,
        help_text=_("Each kind (議案, 請願 …) has its own numbers."),
    )
    publish_counted_names = forms.BooleanField(
        label=_("Publish names for standing and show-of-hands votes"),
        required=False,
        help_text=_(
            "Only where the clerk records who stood; roll-call ballots are always published by name, "
            "secret ballots never."
        ),
    )
