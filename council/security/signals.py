"""Close a user's live sockets when the user's right to them ends.

Sign-out is handled by the live app itself. Here: a password change or deactivation (every
socket of the user closes), and losing a role (a membership ended or removed, the person made
inactive, re-kinded or unlinked: the user's sockets close when a sitting they are connected to
is no longer theirs). The close goes to every server process through the live app's control
group, after the change commits. The live app also re-checks access periodically; this makes
it immediate.

The organisation (``council``) does not depend on meetings, so the live app is imported lazily
and its absence is tolerated.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from council.models import Membership, Person

logger = logging.getLogger(__name__)
User = get_user_model()


def _live():
    try:
        from meetings.live import fanout
        from meetings.live.models import LiveConnection
        from meetings.live.permissions import can_follow
    except ImportError:  # the live app is not installed
        return None
    return fanout, LiveConnection, can_follow


def close_all_sockets(user_id: int) -> None:
    """After commit, close every live socket of the user on every process."""
    def run():
        live = _live()
        if live is not None:
            live[0].close_user_sockets(user_id)

    transaction.on_commit(run)


def close_sockets_if_access_lost(user_id: int) -> None:
    """After commit, close the user's sockets if a sitting they are connected to is no longer theirs."""
    def run():
        live = _live()
        if live is None:
            return
        fanout, LiveConnection, can_follow = live
        from meetings.models import Sitting

        sitting_ids = set(LiveConnection.objects.filter(user_id=user_id).values_list("sitting_id", flat=True))
        if not sitting_ids:
            return
        user = User.objects.select_related("person").filter(pk=user_id).first()
        sittings = Sitting.objects.select_related("body").filter(pk__in=sitting_ids)
        if user is None or not all(can_follow(user, sitting) for sitting in sittings):
            fanout.close_user_sockets(user_id)

    transaction.on_commit(run)


@receiver(pre_save, sender=User, dispatch_uid="security.user_pre_save")
def _remember_user(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._security_before = None
    if raw or instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
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


@receiver(pre_save, sender=Person, dispatch_uid="security.person_pre_save")
def _remember_person(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    instance._security_before_user = Person.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()


@receiver(post_save, sender=Person, dispatch_uid="security.person_post_save")
def _person_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    previous = getattr(instance, "_security_before_user", None)
    instance._security_before_user = None
    for user_id in {previous, instance.user_id} - {None}:
        close_sockets_if_access_lost(user_id)


@receiver(post_delete, sender=Person, dispatch_uid="security.person_deleted")
def _person_deleted(sender, instance, **kwargs):
    if instance.user_id:
        close_sockets_if_access_lost(instance.user_id)


@receiver(post_save, sender=Membership, dispatch_uid="security.membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="security.membership_deleted")
def _membership_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    user_id = Person.objects.filter(pk=instance.person_id).values_list("user_id", flat=True).first()
    if user_id:
        close_sockets_if_access_lost(user_id)
