"""Minutes (会議録): drafting from the record, editing, sign-off, PDF and open data."""
