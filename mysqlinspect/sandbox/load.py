"""A little write load for a sandbox: a table with inserts, updates and deletes in small transactions."""

from __future__ import annotations

import random
import time

from mysqlinspect.connection.connect import open_connection
from mysqlinspect.connection.settings import ConnectionSettings

DEMO_SCHEMA = "mysqlinspect_demo"


def run_write_load(settings: ConnectionSettings, seconds: float, seed: int = 7) -> int:
    """Write for `seconds`; return the number of committed transactions."""
    conn = open_connection(settings, read_only=False)
    rnd = random.Random(seed)
    committed = 0
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {DEMO_SCHEMA}")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {DEMO_SCHEMA}.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                "customer VARCHAR(40) NOT NULL, amount DECIMAL(12,2) NOT NULL, status ENUM('new','paid','shipped') "
                "NOT NULL DEFAULT 'new', note JSON, created TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))"
            )
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                cur.execute("BEGIN")
                for _ in range(5):
                    cur.execute(
                        f"INSERT INTO {DEMO_SCHEMA}.orders (customer, amount, note) VALUES (%s, %s, %s)",
                        (f"c{rnd.randint(1, 500)}", f"{rnd.uniform(1, 999):.2f}", '{"via": "demo"}'),
                    )
                cur.execute(f"UPDATE {DEMO_SCHEMA}.orders SET status = 'paid' WHERE status = 'new' LIMIT 2")
                if rnd.random() < 0.2:
                    cur.execute(f"DELETE FROM {DEMO_SCHEMA}.orders ORDER BY id LIMIT 1")
                cur.execute("COMMIT")
                committed += 1
    finally:
        conn.close()
    return committed
