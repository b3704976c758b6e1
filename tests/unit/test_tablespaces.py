"""Pure tests of the tablespace model (data file paths, kinds, compression, sizes) and the R20 rules."""

from __future__ import annotations

from mysqlinspect.checks.inputs import Unavailable
from mysqlinspect.checks.model import Status
from mysqlinspect.checks.rules import RECLAIMABLE_MIN_BYTES, find_rule
from mysqlinspect.checks.runner import build_limits, evaluate
from mysqlinspect.collectors.tablespace_model import (
    DataFileSpec,
    Tablespace,
    TablespaceReport,
    classify_mariadb,
    classify_mysql,
    compression_of,
    finish_sizes,
    limit_of_data_files,
    parse_data_file_path,
)
from mysqlinspect.render.server.check import perfdata
from tests.unit.test_checks import snapshot

MIB = 1 << 20


def test_data_file_path_with_max_and_several_files() -> None:
    specs = parse_data_file_path("ibdata1:12M;ibdata2:50M:autoextend:max:500M")
    assert specs == [DataFileSpec("ibdata1", 12 * MIB, False, None), DataFileSpec("ibdata2", 50 * MIB, True, 500 * MIB)]
    assert limit_of_data_files(specs) == (True, 512 * MIB)
    assert limit_of_data_files(parse_data_file_path("ibdata1:12M:autoextend")) == (True, None)
    assert limit_of_data_files(parse_data_file_path("ibdata1:1G")) == (False, 1 << 30)
    assert limit_of_data_files(parse_data_file_path("/dev/sdb1:3Gnewraw")) == (False, 3 << 30)


def test_kinds() -> None:
    assert classify_mysql("innodb_system", "System") == "system"
    assert classify_mysql("innodb_temporary", "System") == "temporary"
    assert classify_mysql("mysql", "General") == "dictionary"
    assert classify_mysql("ts1", "General") == "general"
    assert classify_mysql("innodb_undo_001", "Undo") == "undo"
    assert classify_mysql("db/t", "Single") == "file-per-table"
    assert classify_mariadb("innodb_undo001") == "undo"
    assert classify_mariadb("db/t") == "file-per-table"


def test_innodb_names_decode_like_file_names() -> None:
    from mysqlinspect.collectors.tablespace_model import decode_filename

    assert decode_filename("my@002ddb/t@0020x") == "my-db/t x"
    assert decode_filename("db/plain") == "db/plain"


def test_compression() -> None:
    assert compression_of(8192, "row_format=COMPRESSED KEY_BLOCK_SIZE=8") == "ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8"
    assert compression_of(None, 'COMPRESSION="zlib"') == "page compression zlib"  # MySQL 9.7's spelling
    assert compression_of(None, "COMPRESSION='None'") is None
    assert compression_of(None, "`page_compressed`='1' `page_compression_level`='3'") == "page compression level 3"
    assert compression_of(None, "row_format=DYNAMIC") is None


def test_used_share_of_max() -> None:
    ts = Tablespace("innodb_system", "system", size_bytes=40 * MIB, free_bytes=4 * MIB, max_size_bytes=40 * MIB)
    finish_sizes(ts)
    assert ts.used_bytes == 36 * MIB and ts.used_pct_of_max == 90.0
    unknown_free = Tablespace("innodb_system", "system", size_bytes=20 * MIB, max_size_bytes=40 * MIB)
    finish_sizes(unknown_free)
    assert unknown_free.used_pct_of_max == 50.0 and "free space unknown" in unknown_free.sources["used_pct_of_max"]


def run(report: TablespaceReport | Unavailable, key: str) -> object:
    rule = find_rule(key)
    assert rule is not None
    return evaluate(snapshot(tablespaces=report), [rule], build_limits([rule], {}, {}))[0]


def test_size_limit_rule_levels_and_perfdata() -> None:
    for used, status in ((30, Status.OK), (33, Status.WARNING), (37, Status.CRITICAL)):
        ts = Tablespace("innodb_system", "system", size_bytes=40 * MIB, free_bytes=(40 - used) * MIB,
                        max_size_bytes=40 * MIB)
        finish_sizes(ts)
        finding = run(TablespaceReport(tablespaces=[ts]), "R20a")
        assert finding.status is status, finding.message  # type: ignore[attr-defined]
    assert perfdata(finding) == "'tablespace_size_limit'=92.5%;@80:;@90:;0;100"  # type: ignore[arg-type]


def test_size_limit_without_any_maximum_is_ok_without_value() -> None:
    finding = run(TablespaceReport(tablespaces=[Tablespace("db/t", "file-per-table", size_bytes=MIB)]), "R20a")
    assert finding.status is Status.OK and finding.value is None  # type: ignore[attr-defined]


def test_reclaimable_rule_ignores_small_free_space() -> None:
    small = Tablespace("db/small", "file-per-table", size_bytes=7 * MIB, free_bytes=4 * MIB)
    big = Tablespace("db/big", "file-per-table", size_bytes=100 * MIB, free_bytes=60 * MIB)
    assert run(TablespaceReport(tablespaces=[small]), "R20b").value == 0  # type: ignore[attr-defined]
    finding = run(TablespaceReport(tablespaces=[small, big]), "R20b")
    assert finding.status is Status.WARNING and finding.value == 60.0  # type: ignore[attr-defined]
    assert finding.evidence["tablespace"] == "db/big"  # type: ignore[attr-defined]
    assert finding.evidence["min_free_bytes"] == RECLAIMABLE_MIN_BYTES  # type: ignore[attr-defined]


def test_rules_unknown_naming_process_without_the_view() -> None:
    finding = run(Unavailable("tablespaces: need PROCESS", grant="PROCESS privilege"), "R20b")
    assert finding.status is Status.UNKNOWN and finding.grant == "PROCESS privilege"  # type: ignore[attr-defined]


def test_totals_per_kind_and_reclaimable_order() -> None:
    from mysqlinspect.collectors.tablespace_model import SessionTempTablespace, kind_totals
    from mysqlinspect.collectors.tablespaces import reclaimable_of

    spaces = {
        "db/a": Tablespace("db/a", "file-per-table", size_bytes=10 * MIB, free_bytes=2 * MIB),
        "db/b": Tablespace("db/b", "file-per-table", size_bytes=100 * MIB, free_bytes=40 * MIB),
        "gts": Tablespace("gts", "general", size_bytes=50 * MIB, free_bytes=30 * MIB),  # never reclaimable
        "innodb_system": Tablespace("innodb_system", "system", size_bytes=12 * MIB),
    }
    sessions = [SessionTempTablespace(1, 7, "./#innodb_temp/temp_1.ibt", 81920, "ACTIVE", "USER")]
    totals = {t.kind: t for t in kind_totals(list(spaces.values()), sessions)}
    assert totals["file-per-table"].count == 2 and totals["file-per-table"].free_bytes == 42 * MIB
    assert totals["system"].free_bytes is None  # unknown free space is not summed as 0
    assert totals["session temporary"].size_bytes == 81920
    reclaimable = reclaimable_of(spaces)
    assert [r.tablespace for r in reclaimable] == ["db/b", "db/a"]
    assert reclaimable[0].table == "db.b" and reclaimable[0].share_pct == 40.0
