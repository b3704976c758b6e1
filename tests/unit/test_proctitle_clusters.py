"""A password in a cluster of short options (`-ypsecret`, `-fp secret`: click reads -y/-f, then -p's value) is
masked too, and the process title is rewritten for it."""

from __future__ import annotations

from mysqlinspect.cli.proctitle import MASK, carries_password, masked_argv


def test_password_after_flag_letters_is_masked() -> None:
    argv = ["binlog", "replay", "-ypsecret", "--start-file", "b.1"]
    assert masked_argv(argv) == ["binlog", "replay", f"-yp{MASK}", "--start-file", "b.1"]
    assert masked_argv(["binlog", "tail", "-fp", "s2"]) == ["binlog", "tail", "-fp", MASK]
    assert carries_password(argv)


def test_value_options_and_prompting_clusters_are_left_alone() -> None:
    for argv in (["binlog", "replay", "-opath"], ["binlog", "tail", "-tpdb.t"], ["status", "-yp", "-u", "root"]):
        assert masked_argv(argv) == argv
