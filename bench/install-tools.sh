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

echo "bench: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "bench: need root to apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages' own services must not start: the bench starts its own throwaway servers.
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=true
fi
trap '$created_policy && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
