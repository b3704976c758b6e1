"""CREATE TRIGGER as the servers log it, with a definer whose name or host holds a space or quote: the trigger and
its table are still recognised (an unrecognised one would fire again, unrefused, when its table's rows are
applied as SQL)."""

from __future__ import annotations

import pytest

from mysqlinspect.binlog.replay.range_contents import created_trigger, created_trigger_table


@pytest.mark.parametrize("definer", ["`app user`@`%`", "`o``brien`@`my host`", "'app user'@'%'", "CURRENT_USER",
                                     "CURRENT_USER()", "`root`@`localhost`"])
def test_definer_with_spaces_and_quotes(definer: str) -> None:
    text = f"CREATE DEFINER={definer} TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.v = 1"
    assert created_trigger(text) == "tr"
    assert created_trigger_table(text, "d") == ("d", "t")
