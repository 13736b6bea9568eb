#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries the tests use are on this machine
# (test/support/postgres.ts starts a throwaway cluster from them). `make test` runs this first.
# Installs Debian's postgresql-15 (or, where the release has another version, `postgresql`)
# when no /usr/lib/postgresql/<version>/bin/initdb exists. Does nothing when one does.
set -euo pipefail

if [[ -n ${PG_BIN:-} && -x $PG_BIN/initdb ]] || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  exit 0
fi
"$(dirname "$0")/apt-install.sh" 'postgresql-15|postgresql'
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || {
  echo "ensure-postgres: installed, but no initdb under /usr/lib/postgresql/*/bin" >&2
  exit 1
}
