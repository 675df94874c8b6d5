"""Matters (議案・請願・陳情 …) and their road through sittings and bodies, committee reports
(委員会審査報告書) and general questions (一般質問通告).

Every change goes through ``meetings.matters.services`` (audited); the rules of the road are in
``meetings.matters.rules``. Matters build on sessions, sittings, agenda items, motions and polls;
nothing in council/, documents/ or the rest of meetings/ knows of them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from council.models import Body, Council, Person
from meetings.matters import rules
from meetings.models import AgendaItem, Session, Sitting


def _english() -> bool:
    return (get_language() or "ja").startswith("en")


class MatterSettings(models.Model):
    """The council's own rules for matters (会議規則): numbering, and which votes name members."""

    class Numbering(models.TextChoices):
        YEAR = "year", _("Per kind, through the calendar year")
        SESSION = "session", _("Per kind, starting again each session")

    council = models.OneToOneField(Council, on_delete=models.CASCADE, related_name="matter_settings")
    numbering = models.CharField(
        _("numbering"), max_length=10, choices=Numbering.choices, default=Numbering.YEAR
    )
    publish_counted_names = models.BooleanField(
        _("publish names for standing and show-of-hands votes"),
        default=False,
        help_text=_(
            "Only where the clerk records who stood; roll-call ballots are always published by name."
        ),
    )

    class Meta:
        verbose_name = _("matter settings")
        verbose_name_plural = _("matter settings")

    def __str__(self) -> str:
        return f"{self.council}: {self.numbering}"


class Matter(models.Model):
    """議案等: one matter before the council, from submission to decision."""

    class Submitter(models.TextChoices):
        MAYOR = "mayor", _("The mayor (町長提出)")
        MEMBERS = "members", _("Members (議員発議)")
        COMMITTEE = "committee", _("A committee (委員会提出)")
        PETITIONER = "petitioner", _("A petitioner (請願者・陳情者)")
        CHAIR = "chair", _("The chair of the council (議長)")

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="matters")
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="matters", verbose_name=_("session")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=rules.KINDS)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    # "2026" (numbered through the year) or "s12" (per session): the scope the number is unique in.
    number_scope = models.CharField(max_length=20, blank=True)
    amends = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendments",
        verbose_name=_("amends"),
    )
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("title in English"), max_length=300, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    submitter_kind = models.CharField(_("submitted by"), max_length=20, choices=Submitter.choices)
    submitter_body = models.ForeignKey(
        Body,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submitted_matters",
        verbose_name=_("submitting committee"),
    )
    petitioner = models.CharField(_("petitioner"), max_length=200, blank=True)
    submitted_on = models.DateField(_("submitted on"))
    # The road so far (kept in step with MatterStep by the services, for fast lists).
    referred_to = models.ForeignKey(
        Body,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_matters",
        verbose_name=_("referred to"),
    )
    committee_decision = models.CharField(
        _("committee decision"), max_length=20, choices=rules.COMMITTEE_DECISIONS, blank=True
    )
    result = models.CharField(_("result"), max_length=20, choices=rules.RESULTS, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        ordering = ["session", "kind", "number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "kind", "number_scope", "number"],
                condition=Q(number__isnull=False),
                name="matter_unique_number",
                violation_error_message=_("A matter of this kind already has that number."),
            ),
            models.CheckConstraint(
                condition=Q(kind="amendment", amends__isnull=False, number__isnull=True)
                | (~Q(kind="amendment") & Q(amends__isnull=True, number__isnull=False)),
                name="matter_amendment_shape",
                violation_error_message=_(
                    "An amendment names the matter it amends and has no number of its own."
                ),
            ),
        ]
        indexes = [models.Index(fields=["session", "published_at"])]

    def __str__(self) -> str:
        return f"{self.label_ja} {self.title}"

    @property
    def label_ja(self) -> str:
        return rules.label(self.kind, self.number, amends=self.amends.label_ja if self.amends_id else "")

    @property
    def label_en(self) -> str:
        return rules.label(
            self.kind, self.number, amends=self.amends.label_en if self.amends_id else "", english=True
        )

    @property
    def label(self) -> str:
        return self.label_en if _english() else self.label_ja

    @property
    def display_title(self) -> str:
        return self.title_en if (_english() and self.title_en) else self.title

    @property
    def result_text(self) -> str:
        return rules.result_text(self.result) if self.result else ""

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_finished(self) -> bool:
        return bool(self.result) and self.result != rules.CONTINUED


class Sponsor(models.Model):
    """提出者・賛成者 of a members' matter, or the 紹介議員 of a petition."""

    class Role(models.TextChoices):
        PROPOSER = "proposer", _("Proposer (提出者)")
        SECONDER = "seconder", _("Seconder (賛成者)")
        INTRODUCER = "introducer", _("Introducing member (紹介議員)")

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="sponsors")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("sponsor")
        verbose_name_plural = _("sponsors")
        ordering = ["matter", "role", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["matter", "person"], name="matter_sponsor_unique")]

    def __str__(self) -> str:
        return f"{self.matter_id}: {self.person} ({self.role})"


class MatterDocument(models.Model):
    """A document of the matter: the bill text, explanations, a replacement (差し替え)."""

    class Role(models.TextChoices):
        TEXT = "text", _("Text (本文)")
        EXPLANATION = "explanation", _("Explanation (説明資料)")
        REFERENCE = "reference", _("Reference material (参考資料)")

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="documents")
    document = models.ForeignKey("documents.Document", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(
        pgettext_lazy("document role", "role"), max_length=20, choices=Role.choices, default=Role.TEXT
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("matter document")
        verbose_name_plural = _("matter documents")
        ordering = ["matter", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["matter", "document"], name="matter_document_unique")]

    def __str__(self) -> str:
        return f"{self.matter_id}: {self.document_id}"


class MatterItem(models.Model):
    """The matter is on this agenda item (several matters may share one item: 一括議題)."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="items")
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="matter_links")

    class Meta:
        verbose_name = _("matter on an agenda item")
        verbose_name_plural = _("matters on agenda items")
        constraints = [models.UniqueConstraint(fields=["matter", "agenda_item"], name="matter_item_unique")]

    def __str__(self) -> str:
        return f"{self.matter_id} @ {self.agenda_item_id}"


class MatterMotion(models.Model):
    """The motion (and so its polls) that decides a matter in a body."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="motions")
    motion = models.OneToOneField("voting.Motion", on_delete=models.CASCADE, related_name="matter_link")

    class Meta:
        verbose_name = _("matter motion")
        verbose_name_plural = _("matter motions")

    def __str__(self) -> str:
        return f"{self.matter_id} ← motion {self.motion_id}"


class CommitteeReport(models.Model):
    """委員会審査報告書: drafted from the committee's record; the clerk may edit the remarks."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="reports")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(_("decision"), max_length=20, choices=rules.COMMITTEE_DECISIONS)
    decided_on = models.DateField(_("decided on"))
    chair_name = models.CharField(_("committee chair"), max_length=100, blank=True)
    vote_summary = models.CharField(_("vote"), max_length=200, blank=True)
    remarks = models.TextField(_("remarks (意見)"), blank=True)
    poll = models.ForeignKey(
        "voting.Poll", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("committee report")
        verbose_name_plural = _("committee reports")
        ordering = ["matter", "decided_on", "id"]

    def __str__(self) -> str:
        return f"{self.matter} — {self.body}"

    @property
    def decision_ja(self) -> str:
        return rules.COMMITTEE_DECISION_JA.get(self.decision, self.decision)


class MatterStep(models.Model):
    """One step of a matter's road: where (body, sitting, agenda item), what happened, and when."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=20, choices=rules.STEPS)
    body = models.ForeignKey(Body, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sitting = models.ForeignKey(
        Sitting, on_delete=models.PROTECT, null=True, blank=True, related_name="matter_steps"
    )
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    poll = models.ForeignKey("voting.Poll", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    report = models.ForeignKey(
        CommitteeReport, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("matter step")
        verbose_name_plural = _("matter steps")
        ordering = ["matter", "date", "at", "id"]
        constraints = [
            # Deciding a matter twice is impossible, whatever the path (a continued matter's
            # 継続審査 is not a decision step).
            models.UniqueConstraint(
                fields=["matter"],
                condition=Q(kind="decided") & ~Q(outcome="continued"),
                name="matter_decided_once",
            ),
            models.UniqueConstraint(
                fields=["matter"], condition=Q(kind="referred"), name="matter_referred_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.matter_id}: {self.kind} {self.outcome}"

    @property
    def outcome_text(self) -> str:
        if self.kind in (rules.EXAMINED, rules.CHAIR_REPORT):
            return str(dict(rules.COMMITTEE_DECISIONS).get(self.outcome, self.outcome))
        if self.kind == rules.DECIDED:
            return rules.result_text(self.outcome)
        return self.outcome


class QuestionCall(models.Model):
    """一般質問の通告: the window for a session's general questions, its order and publication."""

    class Order(models.TextChoices):
        RECEIPT = "receipt", _("Order of receipt (通告順)")
        LOT = "lot", _("By lot (抽選)")

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="question_call")
    deadline = models.DateTimeField(_("deadline"))
    order_method = models.CharField(_("speaking order"), max_length=10, choices=Order.choices, blank=True)
    order_fixed_at = models.DateTimeField(_("order fixed at"), null=True, blank=True)
    sitting = models.ForeignKey(
        Sitting,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sitting"),
    )
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    document = models.ForeignKey(
        "documents.Document", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # The members (ids) put on the floor queue by the last publication, in order: a republication
    # withdraws the waiting turns of those no longer on the list.
    floor_order = models.JSONField(default=list, blank=True)
    # The list as published (the HTML the job worker makes the PDF document from) and its SHA-256;
    # ``document_sha256`` is the SHA-256 of the HTML the document's latest version was made from.
    # The public page offers the PDF only when the two agree (issue 15: no render in a request).
    published_html = models.TextField(blank=True)
    published_sha256 = models.CharField(max_length=64, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    document_queued_at = models.DateTimeField(null=True, blank=True)  # the render last asked for
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("general questions call")
        verbose_name_plural = _("general questions calls")

    def __str__(self) -> str:
        return f"{self.session} 一般質問"

    @property
    def is_open(self) -> bool:
        return self.order_fixed_at is None and timezone.now() <= self.deadline

    @property
    def document_ready(self) -> bool:
        """The published list's PDF document shows the list as last published."""
        return self.document_id is not None and self.document_sha256 == self.published_sha256


class Question(models.Model):
    """A member's notice of general questions (一般質問通告書): one or more topics, each with its
    points and who is asked to answer (町長, 教育長 …)."""

    call = models.ForeignKey(QuestionCall, on_delete=models.CASCADE, related_name="questions")
    member = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    # [{"subject": str, "points": str, "answerers": [str, ...]}, ...]
    topics = models.JSONField(default=list)
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    order = models.PositiveSmallIntegerField(_("speaking order"), null=True, blank=True)

    class Meta:
        verbose_name = _("general question notice")
        verbose_name_plural = _("general question notices")
        ordering = ["call", "order", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "member"], name="question_one_per_member"),
            models.UniqueConstraint(
                fields=["call", "order"], condition=Q(order__isnull=False), name="question_unique_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_id}: {self.member}"


class CountedName(models.Model):
    """Who stood (or raised a hand) in a standing or show-of-hands vote, recorded by the clerk where
    the council publishes names for such votes (``MatterSettings.publish_counted_names``). Never for
    a secret ballot; roll-call ballots have their own named ballots."""

    poll = models.ForeignKey("voting.Poll", on_delete=models.CASCADE, related_name="counted_names")
    member = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=3, choices=[("yes", _("In favour")), ("no", _("Against"))])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("name recorded for a counted vote")
        verbose_name_plural = _("names recorded for counted votes")
        constraints = [models.UniqueConstraint(fields=["poll", "member"], name="counted_name_unique")]

    def __str__(self) -> str:
        return f"{self.poll_id}: {self.member_id} {self.choice}"


class RenderedPdf(models.Model):
    """A matters document as PDF (a committee report, the preview of the list of general questions),
    rendered by the job worker from the HTML whose SHA-256 it keeps: a change of the HTML makes it
    stale. ``queued_sha256`` marks the render already asked for, so a page asked for again and again
    queues it once."""

    key = models.CharField(max_length=40, unique=True)  # "report-12", "questions-3"
    file = models.FileField(upload_to="matters/pdf/%Y/", blank=True)
    size = models.PositiveIntegerField(default=0)
    html_sha256 = models.CharField(max_length=64, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    queued_sha256 = models.CharField(max_length=64, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key
