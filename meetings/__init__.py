"""Meetings: sessions, sittings, the order of business; live sessions (``meetings.live``),
attendance, the floor and voting (``meetings.voting``), and minutes (``meetings.minutes``)."""
