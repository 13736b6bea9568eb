#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (test/docs) when it is missing.
# playwright-core drives it; Playwright's own browser download cannot work here, Debian's can.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi

echo "ensure-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
# Several engineers (or CI steps) may install at once: wait for dpkg's lock instead of failing.
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null
"$CHROMIUM" --version >&2
