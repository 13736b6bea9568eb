#!/usr/bin/env bash
# Installs Debian packages for the tests and the benchmark: `apt-install.sh PKG...`, where a
# PKG may list alternatives as `a|b` (the first the package index knows is taken).
# One place for what every install here needs: root, a wait for dpkg's lock when installs run
# at once, and no package's own service started (the tests start their own throwaway servers).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "apt-install: installing $* needs root (apt-get install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=300)
"${apt[@]}" update -qq

policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=true
fi
trap '$created_policy && rm -f "$policy"' EXIT

packages=()
for wanted in "$@"; do
  IFS='|' read -ra choices <<<"$wanted"
  chosen=${choices[0]}
  for choice in "${choices[@]}"; do
    if apt-cache show "$choice" >/dev/null 2>&1; then chosen=$choice && break; fi
  done
  packages+=("$chosen")
done
echo "apt-install: installing ${packages[*]}" >&2
"${apt[@]}" install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
