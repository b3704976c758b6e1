"""Reading a range as transactions: range resolution, filters, transaction grouping, checkpoints, GTID sets, the
library stream and local files, stats. Imports only `source`, `decode` and the shared types.
"""
