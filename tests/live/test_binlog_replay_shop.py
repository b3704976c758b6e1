"""Issue 9: replay exactness on a production-like schema (tests/live/shop_schema.py), both flavors.

The logged range creates its database (DROP DATABASE IF EXISTS / CREATE DATABASE), the schema with triggers,
routines, views and an event, loads it and runs a seeded batch. The reference is the server's own tool
(`mysqlbinlog | mysql` of the MySQL 9.7 tree, `mariadb-binlog | mariadb`) applied to a fresh target: a dedicated
server of the same flavor, started once per module, so the range's `DROP DATABASE` and names inside DDL need no
rewriting. Each way mysqlinspect offers to apply the range must leave that target exactly as the reference does
(row dumps of every table, invisible columns included, and definitions); a flashback of the batch, in each way
(`--execute` in every apply mode, dry-run SQL piped into the client), must bring a target holding the range's end
state back to the source's state before the batch.

The shop's triggers would fire again if its logged rows were applied as SQL (issue 9 item 3), so the SQL ways
(dry-run SQL, `--apply-mode sql`) refuse that range up front, naming the triggers and writing nothing; their
exactness is checked on the same shop without its triggers (`bare_shop`), against the reference of that range.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mysqlinspect.errors import SandboxError
from mysqlinspect.sandbox.server import SandboxServer, temporary_server
from tests.live.replay_reference import (
    Dump,
    assert_same,
    binlog_text,
    decoded_rows_text,
    full_dump,
    pipe_into_client,
    reference_apply,
    reset,
)
from tests.live.replay_support import binlog_position
from tests.live.shop_schema import TRIGGER_NAMES, ShopRange, write_shop
from tests.servers import drop_database

pytestmark = pytest.mark.live

ROW_EVENT_MODES = ("events", "auto")  # through row events: no trigger fires, the full shop is replayed
SQL_MODES = ("dry-run-sql", "sql")  # refused on the full shop; checked on the shop without triggers
# Where the replayed range starts, so that one defect does not hide the others:
# range: the whole logged range, from DROP DATABASE IF EXISTS on an empty target;
# schema: just after the source's CREATE DATABASE, on a target where the test created the database;
# batch: the batch alone (row changes only, no DDL), on a target the reference brought to the state before it.
STARTS = ("range", "schema", "batch")


@dataclass
class Shop:
    source: Any
    target: SandboxServer
    range: ShopRange
    before_batch: Dump  # the source when the batch started
    after_range: Dump  # the source at the end of the range
    reference: Dump  # the fresh target after mysqlbinlog | mysql of the range

    @property
    def db(self) -> str:
        return self.range.db


@pytest.fixture(scope="module")
def target(server: Any) -> Iterator[SandboxServer]:
    """A dedicated server of the source's flavor: the fresh target every replay is applied to."""
    dedicated = temporary_server(server.flavor, server_id=900)
    try:
        dedicated.start()
    except SandboxError as exc:
        dedicated.destroy()
        pytest.fail(f"could not start the {server.flavor} target server: {exc}", pytrace=False)
    yield dedicated
    dedicated.destroy()


def logged_shop(server: Any, target: SandboxServer, triggers: bool) -> Iterator[Shop]:
    db = ("shop_" if triggers else "bare_shop_") + uuid.uuid4().hex[:10]
    conn = server.connect()
    snapshot: list[Dump] = []
    try:
        logged = write_shop(conn, db, server.flavor, binlog_position,
                            at_batch=lambda: snapshot.append(dump_of(server, db)), triggers=triggers)
        after = dump_of(server, db)
        reset(target, db)
        reference_apply(server, conn, target, logged.start, logged.stop)
        yield Shop(server, target, logged, snapshot[0], after, dump_of(target, db))
    finally:
        conn.close()
        drop_database(server, db)


@pytest.fixture(scope="module")
def shop(server: Any, target: SandboxServer) -> Iterator[Shop]:
    """The full shop, triggers included."""
    yield from logged_shop(server, target, triggers=True)


@pytest.fixture(scope="module")
def bare_shop(server: Any, target: SandboxServer) -> Iterator[Shop]:
    """The same schema, load and batch without the triggers: what SQL replay may apply."""
    yield from logged_shop(server, target, triggers=False)


def dump_of(server: Any, db: str) -> Dump:
    conn = server.connect()
    try:
        return full_dump(conn, db)
    finally:
        conn.close()


def range_args(start: tuple[str, int], stop: tuple[str, int]) -> list[str]:
    return ["--start-file", start[0], "--start-pos", str(start[1]), "--stop-file", stop[0], "--stop-pos", str(stop[1])]


def execute_args(target: SandboxServer) -> list[str]:
    return ["--execute", "--target", f"127.0.0.1:{target.port}", "--yes", "--format", "json"]


@pytest.mark.parametrize("variant", ["shop", "bare_shop"])
def test_reference_reproduces_the_source(server: Any, variant: str, request: pytest.FixtureRequest) -> None:
    """The harness is sound: mysqlbinlog | mysql of the whole range leaves the fresh target equal to the source, on
    every row and definition (nothing needs excluding on either flavor: the forward range round-trips, cascades
    included — MySQL logs them, MariaDB's target runs them again from the logged foreign_key_checks flag)."""
    shop: Shop = request.getfixturevalue(variant)
    triggers = [k for k in shop.after_range.definitions if k.startswith("trigger:")]
    assert len(triggers) == (len(TRIGGER_NAMES) if variant == "shop" else 0)
    assert sum(len(rows) for rows in shop.after_range.rows.values()) > 300
    assert shop.before_batch.rows != shop.after_range.rows
    assert_same(shop.after_range, shop.reference, "mysqlbinlog | mysql of the range vs the source")


def prepare_target(shop: Shop, start: str) -> tuple[str, int]:
    """A fresh target; for the `schema` start also the database itself, created as on the source (the range then
    begins after the source's CREATE DATABASE, so the other defects show even while that DDL fails); for the
    `batch` start the reference's state at the start of the batch."""
    reset(shop.target, shop.db)
    if start == "range":
        return shop.range.start
    if start == "batch":
        conn = shop.source.connect()
        try:
            reference_apply(shop.source, conn, shop.target, shop.range.start, shop.range.batch)
        finally:
            conn.close()
        assert_same(shop.before_batch, dump_of(shop.target, shop.db), "the reference up to the batch")
        return shop.range.batch
    conn = shop.target.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(shop.after_range.definitions["database"])
    finally:
        conn.close()
    return shop.range.schema


def apply_range(shop: Shop, run_cli: Any, mode: str, first: tuple[str, int], *options: str) -> Any:
    """The range from `first` applied to the target one way; the CLI result (dry-run SQL already piped)."""
    args = ["binlog", "replay", *shop.source.cli_args(), *range_args(first, shop.range.stop), *options]
    if mode == "dry-run-sql":
        result = run_cli(*args)
        if result.exit_code == 0:
            loaded = pipe_into_client(shop.target, result.stdout.encode())
            assert loaded.returncode == 0, "the dry-run SQL does not load: " + loaded.stderr.decode(errors="replace")
        return result
    return run_cli(*args, *execute_args(shop.target), "--apply-mode", mode)


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("mode", ROW_EVENT_MODES)
def test_replay_leaves_the_target_as_the_reference_does(shop: Shop, run_cli: Any, mode: str, start: str) -> None:
    """--execute through row events (events, and auto, which picks them here) on a fresh target gives what
    mysqlbinlog | mysql gives, triggers and all."""
    result = apply_range(shop, run_cli, mode, prepare_target(shop, start))
    assert result.exit_code == 0, result.stderr
    assert_same(shop.reference, dump_of(shop.target, shop.db), f"replay ({mode}) vs mysqlbinlog | mysql")


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("mode", SQL_MODES)
def test_sql_replay_of_the_shop_without_triggers_leaves_the_target_as_the_reference_does(
        bare_shop: Shop, run_cli: Any, mode: str, start: str) -> None:
    """Dry-run SQL through the server's own client and --apply-mode sql on a fresh target give what
    mysqlbinlog | mysql of the same range gives, on the shop without triggers (everything else of the shop kept)."""
    result = apply_range(bare_shop, run_cli, mode, prepare_target(bare_shop, start))
    assert result.exit_code == 0, result.stderr
    assert_same(bare_shop.reference, dump_of(bare_shop.target, bare_shop.db), f"replay ({mode}) vs the reference")


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("mode", SQL_MODES)
def test_sql_replay_of_the_shop_with_triggers_is_refused_before_anything_is_written(
        shop: Shop, run_cli: Any, tmp_path: Any, mode: str, start: str) -> None:
    """Applied as SQL, the logged rows would fire the shop's triggers again (BEFORE INSERT overwrites logged
    values, AFTER triggers insert rows the binlog already holds): exit 64 naming every trigger, the target as it
    was, and for the dry run no SQL at all (nothing on stdout, no --output file, no temporary file left)."""
    first = prepare_target(shop, start)
    before = dump_of(shop.target, shop.db)
    if mode == "dry-run-sql":
        out_dir = tmp_path / "out"
        out_dir.mkdir()
        output = out_dir / "shop.sql"
        for options in ([], ["--output", str(output)]):
            result = apply_range(shop, run_cli, mode, first, *options)
            assert result.exit_code == 64, result.stderr
            assert result.stdout == "", "the refused dry run wrote SQL"
            assert_refusal_names_the_triggers(result.stderr)
        assert list(out_dir.iterdir()) == [], "the refused dry run left a file"
    else:
        result = apply_range(shop, run_cli, mode, first)
        assert result.exit_code == 64, result.stderr
        assert_refusal_names_the_triggers(result.stderr)
    assert_same(before, dump_of(shop.target, shop.db), "the target after the refused SQL replay")


def assert_refusal_names_the_triggers(stderr: str) -> None:
    assert "triggers" in stderr and "--allow-triggers" in stderr, stderr
    missing = [name for name in TRIGGER_NAMES if name not in stderr]
    assert not missing, f"the refusal does not name {missing}: {stderr}"


# The batch deletes parents whose foreign keys cascade (country -> city -> address.city_id SET NULL, address ->
# customer.address_id SET NULL, film -> inventory -> rental, customer -> rental). MySQL 9.7 logs the cascaded
# changes as row events; MariaDB does not, so on MariaDB these child tables cannot be brought back from the binlog.


def load_reference_end_state(shop: Shop) -> None:
    reset(shop.target, shop.db)
    conn = shop.source.connect()
    try:
        reference_apply(shop.source, conn, shop.target, shop.range.start, shop.range.stop)
    finally:
        conn.close()
    assert_same(shop.reference, dump_of(shop.target, shop.db), "the reference again (precondition)")


def test_cascades_in_the_binlog_and_what_the_reference_flashback_restores(shop: Shop) -> None:
    """What the flashback expectation rests on. MySQL: the cascaded child changes are in the binlog, so the state
    before the batch can be restored exactly. MariaDB: they are not; `mariadb-binlog --flashback | mariadb` (its
    own undo tool) cannot round-trip the batch: it stops at the first undo of a row that an unlogged cascade
    removed (error 1032, can't find record), and even without that stop the cascaded children would stay as the
    batch left them."""
    conn = shop.source.connect()
    try:
        text = decoded_rows_text(shop.source, conn, shop.range.batch, shop.range.stop)
        logged_cascade = f"### DELETE FROM `{shop.db}`.`city`" in text
        if shop.source.flavor == "mysql":
            assert logged_cascade, "MySQL 9.7 logs the rows its foreign keys cascade to"
            return
        assert not logged_cascade, "MariaDB does not log the rows its foreign keys cascade to"
        load_reference_end_state(shop)
        undo = pipe_into_client(shop.target, binlog_text(shop.source, conn, shop.range.batch, shop.range.stop,
                                                         flashback=True))
    finally:
        conn.close()
    assert undo.returncode != 0, "mariadb-binlog --flashback undid a batch with unlogged cascades"
    assert b"1032" in undo.stderr, undo.stderr.decode(errors="replace")[-500:]  # Can't find record: cascaded away


FLASHBACK_MODES = ("auto", "events", "sql", "dry-run-sql")


@pytest.mark.parametrize("mode", FLASHBACK_MODES)
@pytest.mark.parametrize("variant", ["shop", "bare_shop"])
def test_flashback_of_the_batch_restores_the_state_before_it(server: Any, run_cli: Any, variant: str, mode: str,
                                                             request: pytest.FixtureRequest) -> None:
    """A target holding the range's end state (loaded by the reference), then a flashback of the batch in each way
    the tool offers: `--flashback --execute` with each apply mode, and the dry-run SQL piped into the client.
    MySQL: the target equals the source as it was before the batch, except that SQL would fire the full shop's
    triggers again, so the SQL ways refuse it up front naming them (exit 64) and are checked on the shop without
    triggers. MariaDB: the binlog lacks the cascaded rows (see above), so the only exact outcome is a refusal
    before anything is written that names the cascades (issue 9 item 4: match the reference or refuse up front
    and say why), in every way."""
    shop: Shop = request.getfixturevalue(variant)
    load_reference_end_state(shop)
    result = apply_range(shop, run_cli, mode, shop.range.batch, "--flashback")
    if shop.source.flavor == "mariadb":
        assert result.exit_code == 65, result.stderr  # the binlog lacks the cascaded rows: a data error
        assert "cascade" in result.stderr.lower(), result.stderr
        assert "MariaDB does not log cascaded changes" in result.stderr, result.stderr
        assert "fk_" in result.stderr, result.stderr  # the constraint is named
        assert result.stdout == "" or mode != "dry-run-sql", "the refused flashback wrote SQL"
        assert_same(shop.reference, dump_of(shop.target, shop.db), "nothing written by the refused flashback")
        return
    if variant == "shop" and mode in SQL_MODES:
        assert result.exit_code == 64, result.stderr
        assert_refusal_names_the_triggers(result.stderr)
        assert result.stdout == "" or mode != "dry-run-sql", "the refused flashback wrote SQL"
        assert_same(shop.reference, dump_of(shop.target, shop.db), "nothing written by the refused flashback")
        return
    assert result.exit_code == 0, result.stderr
    assert_same(shop.before_batch, dump_of(shop.target, shop.db), f"flashback ({mode}) of the batch vs the state "
                "before it")


@pytest.fixture
def account_without_binlog(target: SandboxServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A target account with every privilege on the shop databases and none of those `BINLOG` needs: the target
    DSN for it."""
    name, password = "nb_" + uuid.uuid4().hex[:10], "Pw-" + uuid.uuid4().hex[:12]
    conn = target.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'")
            for pattern in ("shop\\_%", "bare\\_shop\\_%"):
                cur.execute(f"GRANT ALL ON `{pattern}`.* TO '{name}'@'%'")
        yield f"mysql://{name}:{password}@127.0.0.1:{target.port}"
        with conn.cursor() as cur:
            cur.execute(f"DROP USER '{name}'@'%'")
    finally:
        conn.close()


@pytest.mark.parametrize("variant", ["shop", "bare_shop"])
def test_auto_without_the_binlog_privilege_refuses_triggers_or_equals_the_reference(
        run_cli: Any, account_without_binlog: str, variant: str, request: pytest.FixtureRequest) -> None:
    """An account that may not run `BINLOG` leaves `auto` only SQL (issue 9 item 3): on the full shop that would
    fire its triggers again, so it is refused before anything is written, naming them (exit 64); on the shop
    without triggers the batch applied as SQL leaves the target as the reference does."""
    shop: Shop = request.getfixturevalue(variant)
    prepare_target(shop, "batch")
    before = dump_of(shop.target, shop.db)
    result = run_cli("binlog", "replay", *shop.source.cli_args(), *range_args(shop.range.batch, shop.range.stop),
                     "--execute", "--target", account_without_binlog, "--yes", "--format", "json")
    if variant == "shop":
        assert result.exit_code == 64, result.stderr
        assert_refusal_names_the_triggers(result.stderr)
        assert_same(before, dump_of(shop.target, shop.db), "the target after the refused replay")
        return
    assert result.exit_code == 0, result.stderr
    assert result.json()["apply_mode"] == "sql" and "BINLOG" in result.json()["apply_mode_note"]
    assert_same(shop.reference, dump_of(shop.target, shop.db), "auto without BINLOG (SQL) vs the reference")
