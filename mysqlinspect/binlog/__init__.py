"""Binary log engine (no click, no rich): one sub-package per step of the flow, each importing only from those
before it:

`source` (raw events: server dump, local files) -> `decode` (events to EventRecords and model values) -> `read`
(ranges, filters, transactions, checkpoints, stats) -> `replay` (SQL, apply, flashback). The shared types
(`model.py`, `position.py`) stay at this level.
"""
