"""Sessions (会期), sittings (会議) and the order of business (議事日程)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from council.models import Body, Council


def _english() -> bool:
    return (get_language() or "ja").startswith("en")


class Session(models.Model):
    """会期: e.g. 令和8年第4回定例会, a regular or extraordinary session with its dates."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular session (定例会)")
        EXTRAORDINARY = "extraordinary", _("Extraordinary session (臨時会)")

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("council")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveSmallIntegerField(_("number in the year (第○回)"))
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "year", "number"],
                name="session_unique_number",
                violation_error_message=_(
                    "This council already has a session with that number in that year."
                ),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="session_dates_order",
                violation_error_message=_("A session cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        from council.formats import era_year

        kind = "定例会" if self.kind == self.Kind.REGULAR else "臨時会"
        return f"{era_year(self.year)}第{self.number}回{kind}"

    @property
    def title_en(self) -> str:
        kind = "Regular Session" if self.kind == self.Kind.REGULAR else "Extraordinary Session"
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(self.number if self.number < 20 else self.number % 10, "th")
        return f"{self.year} {self.number}{suffix} {kind}"

    @property
    def display_title(self) -> str:
        """The title in the active language (Japanese era style, or English)."""
        return self.title_en if _english() else self.title

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("A session cannot end before it starts.")})


class Sitting(models.Model):
    """会議: one day's sitting of a body within a session, numbered 第○号."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        RECESS = "recess", _("In recess")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="sittings", verbose_name=_("session")
    )
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="sittings", verbose_name=_("body"))
    number = models.PositiveSmallIntegerField(_("number (第○号)"))
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"))
    place = models.CharField(_("place"), max_length=100)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    is_public = models.BooleanField(_("open to the public"), default=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    agenda_published_at = models.DateTimeField(_("order of business published at"), null=True, blank=True)
    livestream_url = models.URLField(_("livestream URL"), blank=True)
    ical_sequence = models.PositiveIntegerField(_("calendar sequence"), default=0, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sitting")
        verbose_name_plural = _("sittings")
        ordering = ["date", "start_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "body", "number"],
                name="sitting_unique_number",
                violation_error_message=_(
                    "This body already has a sitting with that number in this session."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session.title} {self.body.name} 第{self.number}号"

    @property
    def number_label(self) -> str:
        return f"No. {self.number}" if _english() else f"第{self.number}号"

    @property
    def display_name(self) -> str:
        """e.g. 令和8年第4回定例会 本会議 第1号, in the active language."""
        return f"{self.session.display_title} {self.body.display_name} {self.number_label}"

    @property
    def agenda_is_published(self) -> bool:
        return self.agenda_published_at is not None

    def clean(self) -> None:
        errors = {}
        if (
            self.session_id
            and self.date
            and not (self.session.start_date <= self.date <= self.session.end_date)
        ):
            errors["date"] = _("The sitting must fall within its session's dates (%(start)s to %(end)s).") % {
                "start": self.session.start_date,
                "end": self.session.end_date,
            }
        if self.session_id and self.body_id and self.session.council_id != self.body.council_id:
            errors["body"] = _("The body belongs to another council.")
        if errors:
            raise ValidationError(errors)


class AgendaItem(models.Model):
    """An item of the order of business: 日程第1 会議録署名議員の指名, 日程第3 議案第○号 …"""

    class Kind(models.TextChoices):
        SIGNERS = "signers", _("Nomination of minutes signers (会議録署名議員の指名)")
        SESSION_LENGTH = "session_length", _("Session length (会期の決定)")
        BILL = "bill", _("Bill (議案)")
        REPORT = "report", _("Report (報告)")
        GENERAL_QUESTIONS = "general_questions", _("General questions (一般質問)")
        PETITION = "petition", _("Petition (請願・陳情)")
        MOTION = "motion", _("Members' motion (発議)")
        ELECTION = "election", _("Election (選挙)")
        OTHER = "other", _("Other")

    sitting = models.ForeignKey(
        Sitting, on_delete=models.CASCADE, related_name="agenda_items", verbose_name=_("sitting")
    )
    position = models.PositiveSmallIntegerField(_("position (日程第○)"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("title in English"), max_length=300, blank=True)
    bill_number = models.CharField(
        _("bill number"), max_length=50, blank=True, help_text=_("e.g. 議案第45号")
    )
    description = models.TextField(_("description"), blank=True)
    closed_session = models.BooleanField(_("closed session (秘密会)"), default=False)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["sitting", "position", "id"]

    def __str__(self) -> str:
        return f"日程第{self.position} {self.title}"

    @property
    def label(self) -> str:
        return f"Item {self.position}" if _english() else f"日程第{self.position}"

    @property
    def display_title(self) -> str:
        return self.title_en if (_english() and self.title_en) else self.title

    @property
    def numbered_title(self) -> str:
        """The title with its bill number in front (議案第45号 町税条例の一部改正について) unless it
        already starts with it: what the clerk recognises an item by when filing documents."""
        title = self.display_title
        if self.bill_number and not title.startswith(self.bill_number):
            return f"{self.bill_number} {title}"
        return title


class AgendaItemDocument(models.Model):
    """Links an agenda item to an agenda document (documents know nothing of meetings)."""

    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.CASCADE, related_name="document_links", verbose_name=_("agenda item")
    )
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.CASCADE,
        related_name="agenda_links",
        verbose_name=_("document"),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("agenda item document")
        verbose_name_plural = _("agenda item documents")
        ordering = ["agenda_item", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agenda_item", "document"], name="agenda_document_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_item}: {self.document_id}"
