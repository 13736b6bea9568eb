/**
 * Debian's Chromium headless shell, as the browser tests launch it (test/support/ensure-chromium.sh
 * installs it). The shell is Chromium's headless-only build: the same Blink and V8 without the
 * desktop browser around them, and it spent half the CPU of the full `chromium --headless` on the
 * console suites (CONTRIBUTING, "How long the tests take"). The background-networking flags
 * matter: without them Chromium reaches for Google's hosts at start, which this closed network
 * refuses.
 */
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium-headless-shell'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // Nothing but 127.0.0.1 (where the tests serve) resolves: a page that reaches for another
  // site fails at once, whatever the test intercepts.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
]

export function launchChromium(timeoutMs: number): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run test/support/ensure-chromium.sh`)
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: timeoutMs })
}
