"""The organisation: the council (議会), its bodies (本会議・委員会), people and memberships,
and the append-only audit chain every state change writes to."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Council(models.Model):
    """議会: a municipal council with a fixed number of seats (定数)."""

    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 磐梯町議会"))
    municipality = models.CharField(_("municipality"), max_length=100, help_text=_("e.g. 磐梯町"))
    seats = models.PositiveSmallIntegerField(_("number of seats (定数)"))
    term_start = models.DateField(_("term start"))
    term_end = models.DateField(_("term end"))
    minutes_retention_years = models.PositiveSmallIntegerField(
        _("minutes retention (years, 0 = permanent)"), default=0
    )

    class Meta:
        verbose_name = _("council")
        verbose_name_plural = _("councils")
        constraints = [
            models.CheckConstraint(condition=Q(seats__gte=1), name="council_seats_positive"),
            models.CheckConstraint(
                condition=Q(term_end__gt=models.F("term_start")), name="council_term_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.term_start and self.term_end and self.term_end <= self.term_start:
            raise ValidationError({"term_end": _("The term must end after it starts.")})


class Caucus(models.Model):
    """会派."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="caucuses", verbose_name=_("council")
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("caucus")
        verbose_name_plural = _("caucuses")
        constraints = [models.UniqueConstraint(fields=["council", "name"], name="caucus_unique_name")]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Anyone the platform knows: councillors, secretariat staff, executive officials.

    The kind decides what they may do (see ``council.permissions``)."""

    class Kind(models.TextChoices):
        COUNCILLOR = "councillor", _("Councillor")
        SECRETARIAT = "secretariat", _("Secretariat staff")
        OFFICIAL = "official", _("Executive official")
        PUBLIC = "public", _("Public")

    class TextSize(models.TextChoices):
        """The member's own reading size for the whole interface (kept across sign-ins and devices)."""

        STANDARD = "standard", _("Standard text")
        LARGE = "large", _("Larger text")

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="people", verbose_name=_("council")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        verbose_name=_("user account"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    family_name = models.CharField(_("family name"), max_length=50)
    given_name = models.CharField(_("given name"), max_length=50)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=50, blank=True)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=50, blank=True)
    title = models.CharField(
        _("job title"), max_length=50, blank=True, help_text=_("e.g. 事務局長, 書記, 町長, 総務課長")
    )
    seat_number = models.PositiveSmallIntegerField(_("seat number (議席番号)"), null=True, blank=True)
    caucus = models.ForeignKey(
        Caucus,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("caucus"),
    )
    active = models.BooleanField(_("in office"), default=True)
    text_size = models.CharField(
        _("text size"), max_length=10, choices=TextSize.choices, default=TextSize.STANDARD
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["kind", "seat_number", "family_name_kana", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "seat_number"],
                condition=Q(seat_number__isnull=False, active=True),
                name="person_unique_active_seat",
                violation_error_message=_("This seat number is already taken."),
            ),
            models.CheckConstraint(
                condition=Q(seat_number__isnull=True) | Q(kind="councillor"),
                name="person_seat_only_councillor",
                violation_error_message=_("Only councillors have seat numbers."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}".strip()

    def clean(self) -> None:
        if self.seat_number is not None and self.kind != self.Kind.COUNCILLOR:
            raise ValidationError({"seat_number": _("Only councillors have seat numbers.")})
        if self.caucus_id and self.council_id and self.caucus.council_id != self.council_id:
            raise ValidationError({"caucus": _("The caucus belongs to another council.")})


class Body(models.Model):
    """A deliberative body: the plenary (本会議) or a committee (委員会)."""

    class Kind(models.TextChoices):
        PLENARY = "plenary", _("Plenary (本会議)")
        STANDING = "standing", _("Standing committee (常任委員会)")
        SPECIAL = "special", _("Special committee (特別委員会)")
        STEERING = "steering", _("Steering committee (議会運営委員会)")

    class QuorumBasis(models.TextChoices):
        SEATS = "seats", _("Half of the fixed seats")
        MEMBERS = "members", _("Half of the current members")
        FIXED = "fixed", _("A fixed number")

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="bodies", verbose_name=_("council")
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    seats = models.PositiveSmallIntegerField(
        _("seats"),
        null=True,
        blank=True,
        help_text=_("Committee size (定数); the plenary uses the council's seats."),
    )
    quorum_basis = models.CharField(
        _("quorum rule"), max_length=10, choices=QuorumBasis.choices, default=QuorumBasis.SEATS
    )
    quorum_fixed = models.PositiveSmallIntegerField(_("fixed quorum"), null=True, blank=True)
    allows_remote_attendance = models.BooleanField(_("allows remote attendance"), default=False)
    jitsi_server = models.URLField(_("Jitsi Meet server"), blank=True)
    meeting_url = models.URLField(_("meeting URL"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("body")
        verbose_name_plural = _("bodies")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["council", "name"], name="body_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the active language (English name when set and English is active)."""
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "ja").startswith("en"):
            return self.name_en
        return self.name

    @property
    def is_plenary(self) -> bool:
        return self.kind == self.Kind.PLENARY

    @property
    def size(self) -> int:
        """定数 of this body."""
        if self.is_plenary:
            return self.council.seats
        return self.seats or 0

    def quorum(self, *, on: datetime.date | None = None) -> int:
        """Members needed present (§113: at least half of the seats)."""
        if self.quorum_basis == self.QuorumBasis.FIXED and self.quorum_fixed:
            return self.quorum_fixed
        if self.quorum_basis == self.QuorumBasis.MEMBERS:
            base = self.memberships.active(on=on).count()
        else:
            base = self.size
        return (base + 1) // 2

    def clean(self) -> None:
        errors = {}
        if self.kind == self.Kind.PLENARY:
            if self.allows_remote_attendance:
                errors["allows_remote_attendance"] = _(
                    "The plenary cannot allow remote attendance for debate and votes."
                )
        elif not self.seats:
            errors["seats"] = _("A committee needs its number of seats.")
        if self.council_id and self.seats and self.seats > self.council.seats:
            errors["seats"] = _("A committee cannot have more seats than the council.")
        if self.quorum_basis == self.QuorumBasis.FIXED:
            if not self.quorum_fixed:
                errors["quorum_fixed"] = _("Give the fixed quorum.")
            elif self.council_id and self.quorum_fixed > (self.size or 0):
                errors["quorum_fixed"] = _("The quorum cannot be larger than the body.")
        if errors:
            raise ValidationError(errors)


class MembershipQuerySet(models.QuerySet):
    def active(self, *, on: datetime.date | None = None) -> MembershipQuerySet:
        day = on or timezone.localdate()
        return self.filter(Q(start__lte=day), Q(end__isnull=True) | Q(end__gte=day))


class Membership(models.Model):
    """A councillor's seat on a body for a period. Past sittings keep their composition."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair")
        VICE_CHAIR = "vice_chair", _("Vice-chair")
        MEMBER = "member", _("Member")

    body = models.ForeignKey(
        Body, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("body")
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["body", "person__seat_number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="membership_period_order",
                violation_error_message=_("A membership cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.body}: {self.person} ({self.get_role_display()})"

    @property
    def role_title(self) -> str:
        """議長/副議長/議員 on the plenary, 委員長/副委員長/委員 on a committee, in the active language."""
        if self.body.is_plenary:
            titles = {
                self.Role.CHAIR: _("Chair of the council"),
                self.Role.VICE_CHAIR: _("Vice-chair of the council"),
                self.Role.MEMBER: _("Councillor"),
            }
        else:
            titles = {
                self.Role.CHAIR: _("Committee chair"),
                self.Role.VICE_CHAIR: _("Committee vice-chair"),
                self.Role.MEMBER: _("Committee member"),
            }
        return str(titles.get(self.role, self.get_role_display()))

    def clean(self) -> None:
        errors = {}
        if self.person_id and self.person.kind != Person.Kind.COUNCILLOR:
            errors["person"] = _("Only councillors can be members of a body.")
        if self.end and self.start and self.end < self.start:
            errors["end"] = _("A membership cannot end before it starts.")
        if self.body_id and self.person_id and self.start:
            overlapping = Membership.objects.filter(body_id=self.body_id, person_id=self.person_id).exclude(
                pk=self.pk
            )
            overlapping = overlapping.filter(Q(end__isnull=True) | Q(end__gte=self.start))
            if self.end:
                overlapping = overlapping.filter(start__lte=self.end)
            if overlapping.exists():
                errors["start"] = _("This person already has a membership of this body in that period.")
            if self.role in (self.Role.CHAIR, self.Role.VICE_CHAIR):
                same_role = Membership.objects.filter(body_id=self.body_id, role=self.role).exclude(
                    pk=self.pk
                )
                same_role = same_role.filter(Q(end__isnull=True) | Q(end__gte=self.start))
                if self.end:
                    same_role = same_role.filter(start__lte=self.end)
                if same_role.exists():
                    errors["role"] = _("This body already has a %(role)s in that period.") % {
                        "role": self.get_role_display()
                    }
            if (
                self.body.kind != Body.Kind.PLENARY
                and self.body.seats
                and not errors
                and Membership.objects.filter(body_id=self.body_id)
                .active(on=self.start)
                .exclude(pk=self.pk)
                .count()
                >= self.body.seats
            ):
                errors["body"] = _("This committee's seats are all filled on that date.")
        if errors:
            raise ValidationError(errors)


class AuditImmutableError(Exception):
    """Audit entries are appended, never changed or removed."""


class AuditEntryQuerySet(models.QuerySet):
    """Refuses bulk changes; the only way in is ``create`` (see ``council.audit``)."""

    def update(self, **kwargs):
        raise AuditImmutableError("audit entries cannot be updated")

    def delete(self):
        raise AuditImmutableError("audit entries cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditImmutableError("audit entries cannot be updated")

    def update_or_create(self, *args, **kwargs):
        raise AuditImmutableError("audit entries cannot be updated")


class AuditEntry(models.Model):
    """An append-only, hash-chained record of every state change (see ``council.audit``).

    The application refuses updates and deletes here; on PostgreSQL a trigger refuses them in
    the database too (``council/security/migrations``); anything else is caught by the chain."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditImmutableError("audit entries cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutableError("audit entries cannot be deleted")


class AuditHead(models.Model):
    """One row, locked by every append so the chain stays linear under concurrency."""

    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)
    # The newest signed checkpoint (``council.checkpoints``), read under the same lock.
    checkpoint_seq = models.BigIntegerField(default=0)
    checkpoint_at = models.DateTimeField(null=True, blank=True)
    checkpoint_digest = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"audit head ({self.count} entries)"


class AuditCheckpoint(models.Model):
    """A signed statement of the audit chain's head (``council.checkpoints``): the number of
    entries and the last hash, signed with a key kept outside the database. Append-only."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    entry_count = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    prev_digest = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=16)
    reason = models.CharField(max_length=40)
    statement = models.TextField()
    signature = models.CharField(max_length=128)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("signed audit checkpoint")
        verbose_name_plural = _("signed audit checkpoints")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} ({self.entry_count} entries)"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditImmutableError("audit checkpoints cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutableError("audit checkpoints cannot be deleted")

    @property
    def short(self) -> str:
        """What is printed on the minutes: enough to find and check the checkpoint."""
        return f"#{self.seq} / {self.entry_count} / {self.head_hash[:16]} / {self.signature[:16]}"
