"""Raw binlog events: the server dump (COM_BINLOG_DUMP, the file list) and local binlog/relay-log files.

Every source yields `rawdump.RawEvent` records (file, positions, header fields, body without checksum), so one
decoder (`mysqlinspect.binlog.decode`) serves them all. Imports only the top-level shared types.
"""
