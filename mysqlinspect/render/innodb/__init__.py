"""Renderers of the InnoDB file and tablespace commands."""
