"""MySQL 8.0.30+ records: stream, compressed integers, record parsers, walk, apply."""
