"""Raw binlog event sources: local binlog/relay-log files (this package) and, later, the server dump.

Every source yields `rawdump.RawEvent` records (file, positions, header fields, body without checksum), so one
decoder (`mysqlinspect.binlog.decode`) serves them all.
"""
