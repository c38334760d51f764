#!/usr/bin/env bash
# Start the local PostgreSQL cluster the storage tests use (127.0.0.1:5432, trust
# auth, database `test`) when it is not already accepting connections.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ready; then
  exit 0
fi
if [ ! -d /etc/postgresql ]; then
  echo "PostgreSQL is not installed on this machine; storage tests need it at 127.0.0.1:5432" >&2
  exit 1
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "starting PostgreSQL ${version}"
pg_ctlcluster --skip-systemctl-redirect "${version}" main start
for _ in $(seq 1 30); do
  ready && exit 0
  sleep 1
done
echo "PostgreSQL did not become ready on 127.0.0.1:5432" >&2
exit 1
