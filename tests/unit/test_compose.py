"""docker-compose.yml: the services, their flags and ports (our machines cannot run it)."""

from __future__ import annotations

import yaml

from tests.servers import DOCKER_SERVICES, repo_root

REQUIRED_FLAGS = (
    "--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=FULL",
    "--binlog-checksum=CRC32",
)


def load() -> dict:
    return yaml.safe_load((repo_root() / "docker-compose.yml").read_text())


def test_services_and_images() -> None:
    services = load()["services"]
    assert set(services) == set(DOCKER_SERVICES)
    assert services["mysql-8.0"]["image"] == "mysql:8.0"
    assert services["mysql-8.4"]["image"] == "mysql:8.4"
    assert services["mariadb-11.4"]["image"] == "mariadb:11.4"


def test_flags_ports_healthchecks() -> None:
    services = load()["services"]
    server_ids = set()
    for name, svc in services.items():
        command = svc["command"]
        for flag in REQUIRED_FLAGS:
            assert flag in command, (name, flag)
        if name.startswith("mysql"):
            assert "--gtid-mode=ON" in command and "--enforce-gtid-consistency=ON" in command
        ids = [c for c in command if c.startswith("--server-id=")]
        assert len(ids) == 1
        server_ids.add(ids[0])
        assert svc["ports"] == ["127.0.0.1::3306"]
        assert svc["healthcheck"]["test"]
    assert len(server_ids) == len(services)
