"""Where InnoDB starts async and sync flushing, per redo design, computed from capacity as the server does.

Formulas follow the server sources:
* MySQL 8.0.30+ (`Log_files_capacity::update_exposed`, log0files_capacity.cc): physical capacity -> hard logical
  capacity -> soft logical capacity (95 %); adaptive flushing starts at soft - soft/8 (the "async" point), sync
  flushing at soft - soft/16, aggressive checkpoints at soft - soft/32. INNODB_METRICS log_max_modified_age_async /
  _sync report exactly the first two (checked against a 9.7 server: 81281024 / 87086592 for 100 MiB).
* MySQL 8.0.0-8.0.29 (`log_calc_max_ages`): real capacity = files x (size - 2 KiB header); safety margin
  min(10 %, 256 x 4 pages); async = cap - cap/8, sync = cap - cap/16.
* MySQL 5.7 (`log_calc_max_ages`): margin = 0.9 x (capacity - free); async = margin - margin/8,
  sync = margin - margin/16, max checkpoint age = margin.
* MariaDB 10.5+ (`log_t::set_capacity`): max_checkpoint_age (= Innodb_checkpoint_max_age) is the sync point,
  max_modified_age_async = max_checkpoint_age - max_checkpoint_age/8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BLOCK = 512
LOG_N_FILES = 32
LOG_FILE_HDR_SIZE = 2048
UNIV_PAGE_SIZE_MAX = 65536
LOG_EXTRA_SAFETY_MARGIN = 2 * UNIV_PAGE_SIZE_MAX
LOG_NEXT_FILE_EARLIER_MARGIN_PCT = 10.0
LOG_EXTRA_WRITER_MARGIN_PCT = 5.0
LOG_CHECKPOINT_FREE_PER_THREAD = 4
LOG_CHECKPOINT_EXTRA_FREE = 8
BACKGROUND_THREADS = 10


@dataclass(frozen=True)
class FlushPoints:
    """Checkpoint ages (bytes of LSN) at which flushing changes gear, and how they were obtained."""

    async_bytes: int
    sync_bytes: int
    hard_limit_bytes: int | None
    formula: str


def _down(value: float, align: int = BLOCK) -> int:
    return int(value) // align * align


def _up(value: float, align: int = BLOCK) -> int:
    return -(-int(value) // align) * align


def mysql_8030_points(physical_capacity: int, page_size: int = 16384) -> FlushPoints:
    lsn_capacity = physical_capacity * (LOG_N_FILES - 2) / LOG_N_FILES - (
        (LOG_N_FILES - 1) * LOG_FILE_HDR_SIZE + LOG_EXTRA_SAFETY_MARGIN
    )
    file_size = _down(physical_capacity / LOG_N_FILES, page_size)
    earlier_margin = _up(math.ceil(LOG_NEXT_FILE_EARLIER_MARGIN_PCT / 100.0 * file_size))
    hard = _down(lsn_capacity - earlier_margin)
    soft = _down(math.floor(hard * (1.0 - LOG_EXTRA_WRITER_MARGIN_PCT / 100.0)))
    return FlushPoints(
        async_bytes=_down(soft - soft // 8),
        sync_bytes=_down(math.floor(soft * (1.0 - 1.0 / 16))),
        hard_limit_bytes=_down(soft - soft // 32),
        formula="MySQL 8.0.30+ Log_files_capacity: soft capacity - 1/8 (adaptive), - 1/16 (sync), - 1/32 (aggressive)",
    )


def mysql_80_points(file_size: int, n_files: int, page_size: int = 16384) -> FlushPoints:
    real = n_files * (file_size - LOG_FILE_HDR_SIZE)
    margin = min(int(0.1 * real), 256 * LOG_CHECKPOINT_FREE_PER_THREAD * page_size)
    cap = _down(real - margin)
    return FlushPoints(
        async_bytes=cap - cap // 8,
        sync_bytes=cap - cap // 16,
        hard_limit_bytes=cap,
        formula="MySQL 8.0 (< 8.0.30) log_calc_max_ages: capacity - 1/8 (async), - 1/16 (sync)",
    )


def mysql_57_points(file_size: int, n_files: int, page_size: int = 16384, thread_concurrency: int = 0) -> FlushPoints:
    capacity = n_files * (file_size - LOG_FILE_HDR_SIZE)
    free = (LOG_CHECKPOINT_FREE_PER_THREAD * (BACKGROUND_THREADS + thread_concurrency)
            + LOG_CHECKPOINT_EXTRA_FREE) * page_size
    margin = int((capacity - free) * 0.9)
    return FlushPoints(
        async_bytes=margin - margin // 8,
        sync_bytes=margin - margin // 16,
        hard_limit_bytes=margin,
        formula="MySQL 5.7 log_calc_max_ages: margin = 0.9 x (capacity - free); - 1/8 (async), - 1/16 (sync)",
    )


def mariadb_points(max_checkpoint_age: int) -> FlushPoints:
    return FlushPoints(
        async_bytes=max_checkpoint_age - max_checkpoint_age // 8,
        sync_bytes=max_checkpoint_age,
        hard_limit_bytes=max_checkpoint_age,
        formula="MariaDB log_t::set_capacity: async = max_checkpoint_age - 1/8, sync = Innodb_checkpoint_max_age",
    )


def mariadb_max_checkpoint_age(log_file_size: int, page_size: int = 16384) -> int:
    """MariaDB 10.5+ max_checkpoint_age from innodb_log_file_size (used when the status variable is absent)."""
    smallest = log_file_size - 12288
    smallest -= smallest // 10
    margin = smallest - (48 * page_size)
    return margin - margin // 10
