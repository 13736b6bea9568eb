#!/usr/bin/env bash
# Installs what the benchmark needs and a fresh machine lacks, from Debian's packages:
# wrk (load), etcd-server (the durable-write baseline), PostgreSQL 15 (pg_test_fsync, and the
# server for BENCH_STORE=postgres), util-linux (taskset). Does nothing when all are present.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v etcd >/dev/null || missing+=(etcd-server)
[[ -x $PG_BIN/pg_test_fsync && -x $PG_BIN/postgres ]] || missing+=(postgresql-15)
command -v taskset >/dev/null || missing+=(util-linux)
[[ ${#missing[@]} -eq 0 ]] && exit 0

"$(dirname "$0")/../test/support/apt-install.sh" "${missing[@]}"
