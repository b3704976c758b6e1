"""Events to EventRecords: our own decoder (RawEvents in, one compiled plan per Table_map), the adapters of
mysql-replication's events, faithful values, JSON, payloads. Imports only `source` and the shared types.
"""
