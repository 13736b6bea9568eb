#!/usr/bin/env bash
# Installs Debian's prometheus (the server and promtool) for the monitoring tests
# (test/monitoring) when promtool is missing. `make test` runs this first. The package's own
# service is not started (apt-install.sh); the tests start a throwaway server of their own.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  exit 0
fi
"$(dirname "$0")/apt-install.sh" prometheus
promtool --version >&2
