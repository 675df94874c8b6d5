"""Attendance (the roll), remote attendance, the floor, motions, polls and ballots."""
