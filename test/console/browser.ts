/**
 * The console in a real browser: Debian's headless Chromium driven by playwright-core (as the
 * Swagger UI test does), with every request to another origin recorded (and failing: no host
 * name resolves), so a test can assert that the console needed nothing but the service. Also:
 * axe-core's accessibility check and screenshots at the two widths the console is made for.
 */
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium } from '../support/chromium.ts'

/** Generous: the machine is shared and small. */
export const WAIT_MS = 20_000
export const WIDE = 1400
export const NARROW = 400

export interface ConsoleBrowser {
  browser: Browser
  /** A new context (its own session storage) whose requests may only go to `origin`. */
  context(options?: { width?: number; token?: string }): Promise<BrowserContext>
  /** A page of a new context, already at `path`, with the console rendered. */
  open(path: string, options?: { width?: number; token?: string }): Promise<Page>
  /** Every URL of another origin that a page tried to load (each failed). */
  offOrigin: string[]
  /** Every URL requested, to check that the token never travels in one. */
  requested: string[]
  close(): Promise<void>
}

export async function launchConsoleBrowser(serverUrl: string): Promise<ConsoleBrowser> {
  const browser = await launchChromium(WAIT_MS)
  const origin = new URL(serverUrl).origin
  const offOrigin: string[] = []
  const requested: string[] = []
  const contexts: BrowserContext[] = []
  const context = async ({ width = WIDE, token }: { width?: number; token?: string } = {}) => {
    const created = await browser.newContext({ viewport: { width, height: 900 } })
    contexts.push(created)
    // Recorded as they go, not intercepted: pausing each request for the test process to let it
    // through cost a page about a third of its load. Chromium resolves no host name
    // (launchChromium), so a request to another site fails there.
    created.on('request', (request) => {
      const url = request.url()
      requested.push(url)
      if (new URL(url).origin !== origin) offOrigin.push(url)
    })
    if (token !== undefined) {
      // As if the user had entered it in this tab before (the token dialog is tested on its own).
      await created.addInitScript((value) => sessionStorage.setItem('config-service.token', value), token)
    }
    created.setDefaultTimeout(WAIT_MS)
    return created
  }
  return {
    browser,
    context,
    offOrigin,
    requested,
    async open(path, options = {}) {
      const page = await (await context(options)).newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(`${serverUrl}${path}`, { waitUntil: 'load' })
      await page.locator('main h1').waitFor()
      if (errors.length > 0) throw new Error(`the console threw: ${errors.join('; ')}`)
      return page
    },
    async close() {
      for (const each of contexts) await each.close().catch(() => {})
      await browser.close()
    },
  }
}

/** axe-core's serious and critical findings on the page as it is now (none is the goal). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze()
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) => `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target).join(', ')}`,
    )
}

/** Saves a full-page screenshot under `dir` and prints its path, for a person to look at. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  console.info(`console screenshot: ${path}`)
  return path
}

/** Whether anything is wider than the viewport (a page that works at 400 px scrolls only down). */
export async function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)
}
