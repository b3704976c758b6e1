"""What the replay's raw pre-pass recognises in statement texts: triggers created, collations named."""

from __future__ import annotations

import pytest

from mysqlinspect.binlog.range_contents import COLLATION, created_trigger


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
