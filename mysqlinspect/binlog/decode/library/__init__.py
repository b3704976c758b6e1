"""Mysql-replication's events adapted to our records (`--decoder library`)."""
