"""Replay and flashback: SQL generation and literals, applying to a target (SQL or row events), inversion, the
pre-checks. The last step of the flow: nothing else in `binlog` imports it.
"""
