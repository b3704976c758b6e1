"""Renderers of the live server commands."""
