"""Live sessions: the server-owned state of a sitting, page turns, presenters, fan-out."""
