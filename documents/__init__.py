"""Agenda documents: ingestion, versions and replacement (差し替え), release and visibility,
serving with range requests, search, and members' private annotations."""
