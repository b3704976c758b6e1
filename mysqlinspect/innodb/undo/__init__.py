"""Rollback segments and undo logs read from the pages (and the redo log applied)."""
