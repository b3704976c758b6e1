"""MySQL's innodb_doublewrite=DETECT_ONLY keeps only page ids and LSNs (`#ib_<ps>_0.bdblwr`): a torn page named
there cannot be repaired, and the server refuses to start. `doublewrite` and `recovery` must say so before it is
started, naming the same page the server names."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.errors import SandboxError
from mysqlinspect.innodb.files.dblwr_sources import SpaceIndex, read_reduced_file, reduced_files
from mysqlinspect.sandbox.server import SandboxServer
from tests.servers import Writer, create_database

pytestmark = [pytest.mark.live, pytest.mark.dedicated]

PS = 16384
SERVER_SAYS = re.compile(r"space_id: (\d+) page_num: (\d+)")


def _tear_a_reduced_page(datadir: Path, db: str) -> tuple[int, int]:
    """Zero the second half of a page of the test's table that the reduced file names."""
    [bdblwr] = reduced_files([datadir])
    entries, notes = read_reduced_file(bdblwr)
    assert entries and not notes
    spaces = SpaceIndex(datadir)
    try:
        ours = [e for e in entries if e.space_id in spaces.paths and e.page_no > 3
                and spaces.relative(e.space_id).startswith(f"{db}/")]
        assert ours, "no page of the test's table was written through the doublewrite buffer"
        target = ours[-1]
        path = spaces.paths[target.space_id]
    finally:
        spaces.close()
    with open(path, "r+b") as fh:
        fh.seek(target.page_no * PS + PS // 2)
        fh.write(bytes(PS // 2))
    return target.space_id, target.page_no


def test_a_torn_page_written_in_detect_only_mode_stops_recovery(
        make_server: Callable[..., SandboxServer], run_cli: Callable[..., Any]) -> None:
    server = make_server("mysql", extra_args=["--innodb-doublewrite=DETECT_ONLY", "--innodb-max-dirty-pages-pct=0"])
    db = create_database(server)
    writer = Writer(server, db, rows_per_txn=50, payload_bytes=1800).start()
    time.sleep(8)
    server.kill()
    writer.stop()
    assert writer.committed > 0
    torn = _tear_a_reduced_page(server.datadir, db)

    report = run_cli("doublewrite", str(server.datadir), "--format", "json")
    assert report.exit_code == 65, report.stdout + report.stderr
    data = report.json()
    assert data["reduced_entries"] > 0 and any(s.endswith(".bdblwr") for s in data["sources"])
    [page] = [d for d in data["unrecoverable"] if (d["space_id"], d["page_no"]) == torn]
    assert "DETECT_ONLY" in page["reason"] and "ER_REDUCED_DBLWR_PAGE_FOUND" in page["reason"]
    preview = run_cli("recovery", str(server.datadir), "--format", "json")
    assert preview.exit_code == 65 and preview.json()["outcome"] == "fails"

    before = len(server.error_log_text())
    with pytest.raises(SandboxError):
        server.start(timeout=180)
    log = server.error_log_text()[before:]
    assert {(int(s), int(p)) for s, p in SERVER_SAYS.findall(log)} == {torn}, log[-3000:]
