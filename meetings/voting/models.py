"""The record of a sitting that decides things: the floor (発言), motions, polls (表決) and ballots.
The roll they rest on (出席, remote attendance, exclusions) is in ``meetings.attendance``.

Every change goes through ``meetings.voting.services``, which writes an audit entry; models only
hold data and constraints. Secret ballots (無記名投票) keep who voted (``SecretParticipation``) and
what was voted (two totals on the ``Poll`` row) apart, with nothing joining them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.models import Council, Person
from meetings.models import AgendaItem, Sitting


class Choice(models.TextChoices):
    YES = "yes", _("Yes (賛成)")
    NO = "no", _("No (反対)")


class FloorTurn(models.Model):
    """発言: a request for the floor and, once the chair grants it (発言の許可), the turn itself
    with its times. Also used for turns the chair gives directly (e.g. 町長 explaining a bill)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        SPEAKING = "speaking", _("Speaking")
        DONE = "done", _("Finished")
        SKIPPED = "skipped", _("Skipped")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="floor_turns")
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="floor_turns"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="floor_turns")
    remote = models.BooleanField(_("requested online"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.WAITING)
    # The place in the queue: when the member asked, or, for a published speaking order (一般質問),
    # a slot after the sitting's scheduled start in that order (``floor_schedule``).
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    # When the turn actually entered the queue; the chair's "waiting" counts from it, or from the
    # sitting's real opening when it was queued before (``selectors.waiting_since``).
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    granted_at = models.DateTimeField(_("granted at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("floor turn")
        verbose_name_plural = _("floor turns")
        ordering = ["requested_at", "id"]
        constraints = [
            # One open request per person, one speaker per sitting.
            models.UniqueConstraint(
                fields=["sitting", "person"],
                condition=Q(status="waiting"),
                name="floor_one_waiting_per_person",
            ),
            models.UniqueConstraint(
                fields=["sitting"], condition=Q(status="speaking"), name="floor_one_speaker"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.status})"


FloorRequest = FloorTurn  # the same record, seen before the chair grants it


class MajorityPreset(models.Model):
    """A council's own wording or fractions for a special majority (特別多数議決); overrides the
    statutory defaults in ``meetings.voting.rules.PRESETS`` with the same key."""

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="majority_presets")
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=200)
    attendance_num = models.PositiveSmallIntegerField(null=True, blank=True)
    attendance_den = models.PositiveSmallIntegerField(null=True, blank=True)
    approval_num = models.PositiveSmallIntegerField()
    attendance_basis = models.CharField(
        _("attendance counted against"),
        max_length=10,
        default="in_office",
        choices=[("in_office", _("Members in office (議員数)")), ("seats", _("Seats (定数)"))],
    )
    approval_den = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("special majority preset")
        verbose_name_plural = _("special majority presets")
        constraints = [
            models.UniqueConstraint(fields=["council", "key"], name="majority_preset_unique_key"),
            models.CheckConstraint(
                condition=Q(approval_den__gt=0) & Q(approval_num__lte=models.F("approval_den")),
                name="majority_preset_approval_fraction",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (self.attendance_num is None) != (self.attendance_den is None):
            raise ValidationError(_("Give both parts of the attendance fraction, or neither."))
        if self.attendance_den is not None and not (0 < self.attendance_num <= self.attendance_den):
            raise ValidationError(_("The fractions of a special majority must be between 0 and 1."))
        if not (self.approval_den and 0 < self.approval_num <= self.approval_den):
            raise ValidationError(_("The fractions of a special majority must be between 0 and 1."))


class Motion(models.Model):
    """A question put to the body (議題・動議) on an agenda item: the text or bill it decides and
    the majority it needs — ordinary (§116: chair does not vote, casting vote on a tie) or special
    (chair votes, no casting vote; attendance as a fraction of the members in office, approval of
    present)."""

    class Requirement(models.TextChoices):
        ORDINARY = "ordinary", _("Ordinary majority (§116)")
        SPECIAL = "special", _("Special majority")

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="motions")
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"), blank=True)
    bill_number = models.CharField(_("bill"), max_length=50, blank=True)
    requirement = models.CharField(
        _("requirement"), max_length=20, choices=Requirement.choices, default=Requirement.ORDINARY
    )
    preset = models.CharField(_("special majority"), max_length=40, blank=True)
    # Attendance as a fraction of the members in office or the seats (null: quorum suffices);
    # approval as a fraction of present.
    attendance_num = models.PositiveSmallIntegerField(null=True, blank=True)
    attendance_den = models.PositiveSmallIntegerField(null=True, blank=True)
    attendance_basis = models.CharField(
        _("attendance counted against"),
        max_length=10,
        default="in_office",
        choices=[("in_office", _("Members in office (議員数)")), ("seats", _("Seats (定数)"))],
    )
    approval_num = models.PositiveSmallIntegerField(null=True, blank=True)
    approval_den = models.PositiveSmallIntegerField(null=True, blank=True)
    requirement_label = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("motion")
        verbose_name_plural = _("motions")
        ordering = ["agenda_item", "created_at", "id"]

    def __str__(self) -> str:
        return self.title


class Poll(models.Model):
    """表決: one vote on a motion, by one method. The members entitled to vote are frozen when
    it opens; the result, the counts and the requirement applied are stored when it closes."""

    class Method(models.TextChoices):
        STANDING = "standing", _("Standing (起立)")
        HANDS = "hands", _("Show of hands (挙手)")
        ROLL_CALL = "roll_call", _("Roll-call ballot (記名投票)")
        SECRET = "secret", _("Secret ballot (無記名投票)")
        NO_OBJECTION = "no_objection", _("No objection (簡易表決)")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        DECLARED = "declared", _("Declared")

    class Outcome(models.TextChoices):
        PENDING = "", _("Pending")
        CARRIED = "carried", _("Carried (可決)")
        REJECTED = "rejected", _("Rejected (否決)")
        TIE = "tie", _("Tie: the chair decides (可否同数)")
        NO_QUORUM = "no_quorum", _("No quorum")
        ATTENDANCE_SHORT = "attendance_short", _("Attendance below the requirement")
        OBJECTED = "objected", _("Objection raised: a formal vote is needed")
        VOIDED = "voided", _("Voided: the secret ballot could not be opened; put the question again")

    motion = models.ForeignKey(Motion, on_delete=models.PROTECT, related_name="polls")
    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="polls")
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.OPEN)
    requirement = models.JSONField(_("requirement applied"), default=dict)
    seats = models.PositiveSmallIntegerField(default=0)
    # Members in office (議員数) when the vote opened: a special majority's attendance basis.
    in_office = models.PositiveSmallIntegerField(default=0)
    quorum_required = models.PositiveSmallIntegerField(default=0)
    present_count = models.PositiveSmallIntegerField(_("present for the matter"), default=0)
    excluded_count = models.PositiveSmallIntegerField(_("present but excluded"), default=0)
    entitled = models.JSONField(_("members entitled to vote"), default=list)
    chair = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # A secret ballot's public sealing key; the private half is only in memory (sealing.py).
    seal_public_key = models.BinaryField(null=True, blank=True, editable=False)
    seal_key_name = models.CharField(max_length=32, blank=True, editable=False)
    # Totals. For a secret ballot they are the only record of what was voted (no row per choice),
    # and they exist only from the close: while it is open the choices are sealed.
    yes_count = models.PositiveSmallIntegerField(default=0)
    no_count = models.PositiveSmallIntegerField(default=0)
    voted_count = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(_("result"), max_length=20, choices=Outcome.choices, blank=True, default="")
    casting_vote = models.CharField(
        _("casting vote (裁決)"), max_length=3, choices=Choice.choices, blank=True
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    declared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sitting"], condition=Q(state="open"), name="poll_one_open_per_sitting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.motion} ({self.get_method_display()})"

    @property
    def is_secret(self) -> bool:
        return self.method == self.Method.SECRET

    @property
    def members_vote(self) -> bool:
        """Members cast their own ballots (roll call, secret); otherwise the clerk enters counts."""
        return self.method in (self.Method.ROLL_CALL, self.Method.SECRET)

    def decide(self, *, casting_vote: str | None = None):
        """The result the law gives for this poll's stored counts (``rules.decide``)."""
        from meetings.voting import rules

        return rules.decide(
            requirement=rules.Requirement.from_dict(self.requirement),
            seats=self.seats,
            quorum=self.quorum_required,
            present=self.present_count,
            excluded=self.excluded_count,
            yes=self.yes_count,
            no=self.no_count,
            casting_vote=casting_vote,
            in_office=self.in_office or None,
        )


class Ballot(models.Model):
    """A named ballot (記名投票 and the names behind standing counts when taken by roll call).
    One per member and poll, never changed."""

    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="ballots")
    member = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="ballots")
    choice = models.CharField(max_length=3, choices=Choice.choices)
    client_token = models.CharField(max_length=64)
    receipt = models.CharField(max_length=32)
    cast_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="the clerk, when recorded for a member in the room",
    )

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["poll", "member__seat_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "member"], name="ballot_one_per_member"),
            models.UniqueConstraint(fields=["poll", "receipt"], name="ballot_unique_receipt"),
        ]

    def __str__(self) -> str:
        return f"{self.poll_id}: {self.member_id} {self.choice}"


class SecretParticipation(models.Model):
    """Who took part in a secret ballot (無記名投票). Deliberately holds no choice, no time and
    nothing else that could join it to the totals on the poll.

    While the ballot is open each choice is a ``SealedBallot`` sealed to a key held only in
    memory, and no running count exists; at the close they are opened, shuffled and counted in
    memory, only the totals are written and the key is destroyed (``meetings.voting.sealing``)."""

    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="participations")
    member = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    client_token = models.CharField(max_length=64)
    receipt = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("secret ballot participation")
        verbose_name_plural = _("secret ballot participations")
        constraints = [
            models.UniqueConstraint(fields=["poll", "member"], name="secret_one_per_member"),
            models.UniqueConstraint(fields=["poll", "receipt"], name="secret_unique_receipt"),
        ]

    def __str__(self) -> str:
        return f"{self.poll_id}: {self.member_id}"


class Objection(models.Model):
    """異議: a member objects to a question put by no-objection (簡易表決)."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="objections")
    member = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        constraints = [models.UniqueConstraint(fields=["poll", "member"], name="objection_one_per_member")]

    def __str__(self) -> str:
        return f"{self.poll_id}: {self.member_id}"


class SealedBallot(models.Model):
    """One secret ballot's choice, sealed to the poll's key while it is open (``sealing.py``).
    Holds nothing else: no voter, no token, no time. Deleted when the poll is closed and counted."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")
    sealed = models.BinaryField()

    class Meta:
        verbose_name = _("sealed secret ballot")
        verbose_name_plural = _("sealed secret ballots")

    def __str__(self) -> str:
        return f"sealed ballot of poll {self.poll_id}"
