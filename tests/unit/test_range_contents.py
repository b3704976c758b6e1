"""What the replay's raw pre-pass recognises in statement texts: triggers created, collations named."""

from __future__ import annotations

import pytest

from mysqlinspect.binlog.replay.range_contents import (
    COLLATION,
    RangeContents,
    created_trigger,
    created_trigger_table,
)


@pytest.mark.parametrize(("text", "name"), [
    ("CREATE DEFINER=`root`@`localhost` TRIGGER item_bi BEFORE INSERT ON item FOR EACH ROW SET NEW.v = 1",
     "item_bi"),
    ("create trigger `db`.`t_ai` after insert on t for each row insert into a values (new.id)", "db.t_ai"),
    ("/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER x BEFORE UPDATE ON t FOR EACH ROW SET @a=1*/",
     "x"),
    ("CREATE OR REPLACE DEFINER=`u`@`h` TRIGGER IF NOT EXISTS trg BEFORE DELETE ON t FOR EACH ROW SET @a = 1", "trg"),
    ("CREATE TABLE trigger_log (id INT)", None),
])
def test_create_trigger_names(text: str, name: str | None) -> None:
    assert created_trigger(text) == name


def test_collations_named_in_ddl() -> None:
    text = ("CREATE TABLE t (a VARCHAR(5) COLLATE utf8mb4_bin, b TEXT CHARACTER SET latin1 COLLATE 'latin1_swedish_ci')"
            " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci")
    assert COLLATION.findall(text) == ["utf8mb4_bin", "latin1_swedish_ci", "utf8mb4_0900_ai_ci"]


@pytest.mark.parametrize(("text", "table"), [
    ("CREATE DEFINER=`root`@`localhost` TRIGGER item_bi BEFORE INSERT ON item FOR EACH ROW SET NEW.v = 1",
     ("d", "item")),
    ("create trigger `db`.`t_ai` after insert on `other`.`my t` for each row insert into a values (new.id)",
     ("other", "my t")),
    ('CREATE TRIGGER "tr" BEFORE INSERT ON "t" FOR EACH ROW BEGIN SET NEW."s" = 1; END', ("d", "t")),
    ("/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER x BEFORE UPDATE ON t FOR EACH ROW SET @a=1*/",
     ("d", "t")),
    ("CREATE TRIGGER odd FOR EACH ROW", None),
])
def test_create_trigger_tables(text: str, table: tuple[str, str] | None) -> None:
    assert created_trigger_table(text, "d") == table


def test_created_triggers_fire_again_only_on_tables_the_range_changes() -> None:
    contents = RangeContents(tables={("d", "t"): b"\x03"}, created_triggers=["on_t", "on_u", "unread"],
                             trigger_tables={"on_t": ("d", "t"), "on_u": ("d", "u"), "unread": None})
    assert contents.refiring_created_triggers() == ["on_t", "unread"]
