"""Which argv forms carry a password (issue 13, item 12); the live test reads a real process's cmdline."""

from __future__ import annotations

from mysqlinspect.cli.proctitle import MASK, masked_argv


def test_every_password_form_is_masked() -> None:
    argv = ["status", "-psecret", "--password=s2", "--password", "s3", "-p", "s4", "-u", "root"]
    assert masked_argv(argv) == ["status", f"-p{MASK}", f"--password={MASK}", "--password", MASK, "-p", MASK,
                                 "-u", "root"]


def test_a_prompting_p_and_other_options_are_left_alone() -> None:
    argv = ["status", "-p", "-u", "root", "-P", "3306", "--protocol", "TCP"]
    assert masked_argv(argv) == argv
