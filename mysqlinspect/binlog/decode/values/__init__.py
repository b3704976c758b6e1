"""Column values: per-type codecs, conversion, binary JSON and its diffs."""
