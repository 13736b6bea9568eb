#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries the tests use are on this machine
# (test/support/postgres.ts starts a throwaway cluster from them). `make test` runs this first.
# Installs Debian's postgresql-15 (or, where the release has another version, `postgresql`)
# when no /usr/lib/postgresql/<version>/bin/initdb exists. Does nothing when one does.
set -euo pipefail

if [[ -n ${PG_BIN:-} && -x $PG_BIN/initdb ]] || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-postgres: PostgreSQL is missing and installing it needs root: apt-get install postgresql-15" >&2
  exit 1
fi
echo "ensure-postgres: installing PostgreSQL from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's package would create and start a system cluster; the tests start their own.
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=true
fi
trap '$created_policy && rm -f "$policy"' EXIT
if apt-cache show postgresql-15 >/dev/null 2>&1; then
  apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
else
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || {
  echo "ensure-postgres: installed, but no initdb under /usr/lib/postgresql/*/bin" >&2
  exit 1
}
