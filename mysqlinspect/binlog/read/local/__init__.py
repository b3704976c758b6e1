"""Local binlog files as transactions: ranges, GTID starts, stats, checkpoints."""
