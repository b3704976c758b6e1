"""Renderers of the binlog commands."""
