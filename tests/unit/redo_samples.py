"""Real redo header samples under tests/data/redo, restored to their original names and sizes in a temp dir.

The samples are the first 16 KiB of each file; the rest of the original file is not needed for headers and
checkpoints, but MySQL 8.0.30+ needs the real size to know which LSNs a file holds, so the copies are extended
(sparse) to the size the original had.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "redo"

# sample dir -> {original file name: original size}
SAMPLES: dict[str, dict[str, int]] = {
    "mysql-5.7.17": {"ib_logfile0": 50331648, "ib_logfile1": 50331648},
    "mysql-8.0.44": {"#ib_redo8": 3276800},
    "mysql-8.4.7": {"#ib_redo7": 3276800},
    "mysql-9.7.4": {"#ib_redo5": 3276800},
    "mariadb-10.2.14": {"ib_logfile0": 50331648, "ib_logfile1": 50331648},
    "mariadb-10.4.10": {"ib_logfile0": 5242880, "ib_logfile1": 5242880},
    "mariadb-10.5.5": {"ib_logfile0": 2097152},
    "mariadb-10.6.11-mariabackup": {"ib_logfile0": 2560},
    "mariadb-10.11.6": {"ib_logfile0": 100663296},
}


def head_bytes(sample: str, name: str) -> bytes:
    return (DATA / sample / f"{name}.head16k").read_bytes()


def restore(sample: str, target: Path) -> Path:
    """Write the sample's files with their real names and sizes into `target`/<sample>; return that dir."""
    out = target / sample
    redo_dir = out / "#innodb_redo"
    for name, size in SAMPLES[sample].items():
        folder = redo_dir if name.startswith("#ib_redo") else out
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        with open(path, "wb") as fh:
            fh.write(head_bytes(sample, name))
            fh.truncate(size)
    return out
