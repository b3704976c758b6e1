"""Renderers: dataclasses in, rich renderables or JSON-ready dicts out. Nothing here prints."""
