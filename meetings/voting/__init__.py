"""Voting: the floor, motions, polls and ballots, and the services that keep the roll (its records and
the quorum are in ``meetings.attendance``, below both live and voting)."""
