"""InnoDB file and tablespace commands: datadir, pages, doublewrite, undo, tablespaces, recovery."""
