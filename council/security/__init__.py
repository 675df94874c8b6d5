"""Hardening: audit immutability, backups, sign-in throttling and second factors."""
