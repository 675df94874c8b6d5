"""Close a user's live sockets when the user's right to them ends.

Sign-out is handled by the live app itself. Here: a password change or deactivation (every
socket of the user closes), and a change that can take a role away (a membership ended, changed
or removed; the person made inactive, re-kinded or unlinked from the user). The close goes to
every server process through the live app's control group, after the change commits; the tablet
reconnects at once and that connection is authorized afresh, so a user who kept access is back
within a second and one who lost it stays out. The live app also re-checks access periodically;
this makes it immediate. Renames and other edits close nothing.

The organisation (``council``) does not depend on meetings: it announces the change with the
``access_changed`` signal after commit, and the live app, which builds on the organisation,
connects to it and closes the sockets.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import Signal, receiver

from council.models import Membership, Person

User = get_user_model()

#: Sent after commit with ``user_id`` when a user's access may have changed (password, deactivation,
#: a role taken away). Receivers close whatever the user had open; it is re-authorized afresh.
access_changed = Signal()


def close_all_sockets(user_id: int) -> None:
    """After commit, close every live socket of the user on every process."""
    transaction.on_commit(lambda: access_changed.send(sender=User, user_id=user_id))


def close_sockets_if_access_lost(user_id: int) -> None:
    """After commit, close the user's sockets; each reconnect is authorized afresh, so a user who
    kept access is back within a second, and one who lost it stays out."""
    close_all_sockets(user_id)


@receiver(pre_save, sender=User, dispatch_uid="security.user_pre_save")
def _remember_user(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._security_before = None
    if (
        raw
        or instance.pk is None
        or (update_fields is not None and not {"password", "is_active"} & set(update_fields))
    ):
        return  # e.g. last_login at each sign-in: nothing to compare
    instance._security_before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()


@receiver(post_save, sender=User, dispatch_uid="security.user_post_save")
def _user_saved(sender, instance, created, raw=False, **kwargs):
    before = getattr(instance, "_security_before", None)
    instance._security_before = None
    if raw or created or before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        close_all_sockets(instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="security.user_deleted")
def _user_deleted(sender, instance, **kwargs):
    close_all_sockets(instance.pk)


PERSON_ACCESS_FIELDS = ("active", "kind", "user_id", "council_id")


@receiver(pre_save, sender=Person, dispatch_uid="security.person_pre_save")
def _remember_person(sender, instance, raw=False, **kwargs):
    instance._security_before = None
    if raw or instance.pk is None:
        return
    instance._security_before = Person.objects.filter(pk=instance.pk).values(*PERSON_ACCESS_FIELDS).first()


@receiver(post_save, sender=Person, dispatch_uid="security.person_post_save")
def _person_saved(sender, instance, created, raw=False, **kwargs):
    before = getattr(instance, "_security_before", None)
    instance._security_before = None
    if raw or created or before is None:
        return
    if any(before[f] != getattr(instance, f) for f in PERSON_ACCESS_FIELDS):  # a rename changes no access
        for user_id in {before["user_id"], instance.user_id} - {None}:
            close_sockets_if_access_lost(user_id)


@receiver(post_delete, sender=Person, dispatch_uid="security.person_deleted")
def _person_deleted(sender, instance, **kwargs):
    if instance.user_id:
        close_sockets_if_access_lost(instance.user_id)


@receiver(pre_save, sender=Membership, dispatch_uid="security.membership_pre_save")
def _remember_membership(sender, instance, raw=False, **kwargs):
    instance._security_before = None
    if raw or instance.pk is None:
        return
    instance._security_before = (
        Membership.objects.filter(pk=instance.pk).values("role", "end", "start", "body_id").first()
    )


@receiver(post_save, sender=Membership, dispatch_uid="security.membership_saved")
def _membership_saved(sender, instance, created, raw=False, **kwargs):
    before = getattr(instance, "_security_before", None)
    instance._security_before = None
    if raw or created or before is None:
        return  # a new membership grants; the next connection sees it
    if (before["role"], before["end"], before["start"], before["body_id"]) != (
        instance.role,
        instance.end,
        instance.start,
        instance.body_id,
    ):
        _close_for_person(instance.person_id)


@receiver(post_delete, sender=Membership, dispatch_uid="security.membership_deleted")
def _membership_deleted(sender, instance, **kwargs):
    _close_for_person(instance.person_id)


def _close_for_person(person_id: int) -> None:
    user_id = Person.objects.filter(pk=person_id).values_list("user_id", flat=True).first()
    if user_id:
        close_sockets_if_access_lost(user_id)
