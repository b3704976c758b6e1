"""Provision real MySQL/MariaDB servers in temporary data directories (tests and the demo)."""
