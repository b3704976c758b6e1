"""One page reader: FIL header/trailer, checksums, page verification."""
