"""Hooks for apps built on the voting record. Sent inside the transaction of the change, so a
receiver's writes commit (or roll back) with it; receivers must not raise for their own refusals."""

from django.dispatch import Signal

# poll_declare: the chair declared the result (宣告). Arguments: poll, by.
poll_declared = Signal()
