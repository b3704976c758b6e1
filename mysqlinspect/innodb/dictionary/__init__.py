"""Table names from the files: MySQL's SDI pages, MariaDB's SYS_TABLES."""
