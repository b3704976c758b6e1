"""The files of a data directory: kinds, page 0, doublewrite buffer contents."""
