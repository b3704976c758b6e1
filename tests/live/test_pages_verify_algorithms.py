"""`pages verify` on real files written under the other checksum algorithms the servers accept, judged by the flavor's
own innochecksum page by page: MySQL with `innodb_checksum_algorithm=innodb` (the innodb fold) and `=none` (the
0xDEADBEEF magic: no checksum at all, only the LSN halves tell a torn page), MariaDB with `=crc32` (the classic page
layout instead of the default full_crc32, and page_compressed pages without a checksum).

The same schema and damage as test_innodb_offline (a dedicated server per configuration: tables written, stopped
and copied, rows rewritten, stopped and copied again; then body bytes flipped, the first half of the newer version
of a page written over the older one, a page zeroed, a byte flipped in page 3 of every tablespace file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.live.test_innodb_offline import (
    Snapshots,
    _damage,
    _schema,
    _server_facts,
    copy_datadir,
    copy_with_page_3_of_every_tablespace_damaged,
    doublewrite_area,
    innochecksum_failures,
    older_and_newer_copies,
    tool_bad_pages,
)
from tests.servers import dedicated_server, wanted_flavors

pytestmark = [pytest.mark.live, pytest.mark.dedicated]

@dataclass
class Written(Snapshots):
    algorithm: str = ""


CONFIGS = [(flavor, algorithm) for flavor, algorithm in (("mysql", "innodb"), ("mysql", "none"), ("mariadb", "crc32"))
           if flavor in wanted_flavors()]


@pytest.fixture(scope="module", params=CONFIGS, ids=[f"{f}-{a}" for f, a in CONFIGS])
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    flavor, algorithm = request.param
    with dedicated_server(flavor, 750, [f"--innodb-checksum-algorithm={algorithm}"]) as server:
        _schema(server)
        uuid, version = _server_facts(server)
        older, newer = older_and_newer_copies(server, tmp_path_factory.mktemp(f"alg-{flavor}-{algorithm}"))
        yield Written(flavor, server, older, newer, uuid, version, algorithm)


def test_clean_files_use_the_algorithm_and_verify_like_innochecksum(written: Written,
                                                                   run_cli: Callable[..., Any]) -> None:
    algorithm = written.algorithm
    result = run_cli("pages", "verify", str(written.older), "--format", "json")
    assert result.exit_code == 0, result.stdout[-2000:] + result.stderr
    files = {Path(f["path"]).relative_to(written.older).as_posix(): f for f in result.json()["files"]}
    t, z = files["d1/t.ibd"], files["d1/z.ibd"]
    assert t["format"] == "classic" and {a for a, n in t["algorithms"].items() if n} == {algorithm}, t
    assert z["format"] == "compressed" and {a for a, n in z["algorithms"].items() if n} == {algorithm}, z
    if written.flavor == "mariadb":
        assert files["d1/pc.ibd"]["counts"].get("unchecked", 0) > 0, files["d1/pc.ibd"]
    for item in files.values():
        path = Path(item["path"])
        assert item["ok"], item
        assert innochecksum_failures(written, path) - doublewrite_area(written, path) == set(), path


def test_damaged_pages_agree_with_innochecksum(written: Written, run_cli: Callable[..., Any],
                                               tmp_path: Path) -> None:
    work = tmp_path / "damaged"
    copy_datadir(written.older, work)
    pages = _damage(written, work)
    t_path, z_path = work / "d1" / "t.ibd", work / "d1" / "z.ibd"
    result = run_cli("pages", "verify", str(t_path), str(z_path), "--format", "json")
    assert result.exit_code == 65, result.stderr
    t, z = (result.json()["files"][i] for i in (0, 1))
    statuses = {b["page_no"]: b["status"] for b in t["bad_pages"]}
    # The LSN halves disagree whatever the algorithm; without a checksum ("none") a flipped body byte goes unseen.
    expected = {pages["torn"]: "torn"}
    if written.algorithm != "none":
        expected[pages["flipped"]] = "corrupt"
    assert statuses == expected, t["bad_pages"]
    assert tool_bad_pages(t) == innochecksum_failures(written, t_path)
    assert tool_bad_pages(z) == innochecksum_failures(written, z_path)


def test_every_damaged_file_agrees_with_innochecksum(written: Written, run_cli: Callable[..., Any],
                                                     tmp_path: Path) -> None:
    work = tmp_path / "all"
    copy_with_page_3_of_every_tablespace_damaged(written.older, work)
    result = run_cli("pages", "verify", str(work), "--format", "json")
    assert result.exit_code in (0, 65), result.stderr  # under "none" only files written at initialisation notice
    for item in result.json()["files"]:
        path = Path(item["path"])
        expected = innochecksum_failures(written, path) - doublewrite_area(written, path)
        assert tool_bad_pages(item) == expected, path
