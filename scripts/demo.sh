#!/usr/bin/env bash
# Start a sandbox server with binary logging on, put a little write load on it and run `mysqlinspect status`.
# With a Docker engine the MySQL 8.4 compose service is used; without one, a local server in .sandbox/
# (Oracle MySQL 9.7 downloaded once into ~/.cache/mysqlinspect; FLAVOR=mariadb for the system's MariaDB).
set -euo pipefail
cd "$(dirname "$0")/.."
FLAVOR="${FLAVOR:-mysql}"

if [ -z "${MYSQLINSPECT_NO_DOCKER:-}" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    service="mysql-8.4"; [ "$FLAVOR" = "mariadb" ] && service="mariadb-11.4"
    docker compose up -d --wait "$service"
    port="$(docker compose port "$service" 3306 | sed 's/.*://')"
    python - "$port" <<'PY'
import sys
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.sandbox.load import run_write_load
n = run_write_load(ConnectionSettings(host="127.0.0.1", port=int(sys.argv[1]), user="root"), 3.0)
print(f"write load: {n} transactions committed", file=sys.stderr)
PY
    echo
    mysqlinspect status -h 127.0.0.1 -P "$port" -u root --format table
    echo
    echo "The sandbox keeps running (docker compose service $service). Go on with (after: source .venv/bin/activate):"
    echo "  mysqlinspect status -h 127.0.0.1 -P $port -u root"
    echo "  mysql -h 127.0.0.1 -P $port -u root"
    echo "Stop it with: docker compose down"
    exit 0
fi

mysqlinspect sandbox start --flavor "$FLAVOR" --dir ".sandbox/$FLAVOR" --load 3 > .sandbox-start.txt
port="$(python -c "import json;print(json.load(open('.sandbox/$FLAVOR/sandbox.json'))['port'])")"
echo
mysqlinspect status -h 127.0.0.1 -P "$port" -u root --format table
echo
echo "The sandbox keeps running. Go on with (after: source .venv/bin/activate):"
tail -n +2 .sandbox-start.txt
rm -f .sandbox-start.txt
