#!/usr/bin/env bash
# Installs Debian's Chromium headless shell for the browser tests (test/console, test/docs) when
# it is missing.
# playwright-core drives it; Playwright's own browser download cannot work here, Debian's can.
set -euo pipefail

CHROMIUM=/usr/bin/chromium-headless-shell
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi

echo "ensure-chromium: installing Debian's chromium-headless-shell" >&2
export DEBIAN_FRONTEND=noninteractive
# Several engineers (or CI steps) may install at once: wait for dpkg's lock instead of failing.
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium-headless-shell >/dev/null
"$CHROMIUM" --version >&2
