"""Collectors: read a live server into dataclasses (no click, no rich)."""
