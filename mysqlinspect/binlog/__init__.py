"""Binary log: stream wrapping, event records, statistics, replay (no click, no rich)."""
