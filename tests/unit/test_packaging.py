"""Packaging metadata that setuptools accepts without deprecation notices (issue 13, item 14)."""

from __future__ import annotations

import re
import tomllib

from tests.servers import repo_root


def test_license_is_an_spdx_string_with_a_setuptools_that_accepts_it() -> None:
    project = tomllib.loads((repo_root() / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    requires = project["build-system"]["requires"]
    setuptools = next(req for req in requires if req.startswith("setuptools"))
    match = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert match and int(match.group(1)) >= 77, setuptools


def test_readme_first_screen_tells_the_download_and_how_to_stop_mariadb() -> None:
    first_screen = "\n".join((repo_root() / "README.md").read_text().splitlines()[:30])
    assert "400 MB" in first_screen and "development suite" in first_screen
    assert "FLAVOR=mariadb make demo-stop" in first_screen
