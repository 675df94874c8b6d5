"""The project configuration (settings, ASGI, routing) and the organisation domain:
the council, its bodies, people, memberships and roles, and the audit chain."""
