"""A server's binlog as records and transactions, through either decoder."""
