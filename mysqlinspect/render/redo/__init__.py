"""Renderers of the redo commands."""
