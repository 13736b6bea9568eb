/**
 * The console and Swagger UI under their Content-Security-Policy, in a real browser (Debian's
 * headless Chromium) against the real service: each page works with no violation of its policy
 * reported, an inline script slipped into either is refused, and another site cannot frame them.
 *
 * Violations are collected from `securitypolicyviolation` events and from the browser's console.
 * A page's own violations (while it loads and works) are dispatched before one the test then
 * provokes on purpose, so once that sentinel's report has arrived, every earlier one has too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium } from '../support/chromium.ts'
import { type RunningServer, startServer } from '../support/server.ts'

/** Generous: on a busy 2-core machine parsing Swagger UI's 1.5 MB bundle alone has taken 8 s. */
const WAIT_MS = 30_000

type Reported = { violations: string[] }

let server: RunningServer
/**
 * Another site that frames the service's pages: a server of its own on this machine (another
 * origin; on loopback like the service, so that the browser's private-network rules, which
 * keep public sites out of loopback, are not what refuses the frames).
 */
let framer: ReturnType<typeof Bun.serve>
let browser: Browser
let context: BrowserContext

beforeAll(async () => {
  server = await startServer({ env: { API_TOKEN: randomBytes(16).toString('hex') } })
  const frames = ['/ui', '/swagger'].map((path) => `<iframe src="${server.url}${path}"></iframe>`).join('')
  framer = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () =>
      new Response(`<!doctype html><title>framer</title>${frames}`, { headers: { 'content-type': 'text/html' } }),
  })
  browser = await launchChromium(WAIT_MS)
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  context.setDefaultTimeout(WAIT_MS)
  const origin = new URL(server.url).origin
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url())
    if (url.origin === origin || url.origin === framer.url.origin) return route.continue()
    return route.abort('blockedbyclient')
  })
  await context.addInitScript(() => {
    const reported = { violations: [] as string[] }
    Object.assign(window, { reported })
    document.addEventListener('securitypolicyviolation', (event) =>
      reported.violations.push(`${event.effectiveDirective} ${event.blockedURI}`),
    )
  })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await framer?.stop(true)
  await server?.stop()
})

interface Opened {
  page: Page
  policy: string | undefined
  /** Console messages about the policy, as the browser words them (the sentinel's says "inline script"). */
  consoleReports: string[]
}

async function open(path: string): Promise<Opened> {
  const page = await context.newPage()
  const consoleReports: string[] = []
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) consoleReports.push(message.text())
  })
  const response = await page.goto(`${server.url}${path}`, { waitUntil: 'load' })
  return { page, policy: response?.headers()['content-security-policy'], consoleReports }
}

/**
 * Slips an inline script into the page, as an injection would, and waits for its violation
 * report; answers whether the script ran and every violation reported up to then.
 */
async function injectInlineScript(page: Page): Promise<{ ran: boolean; violations: string[] }> {
  return page.evaluate(async () => {
    const { reported } = window as unknown as { reported: Reported }
    const before = reported.violations.length
    const script = document.createElement('script')
    script.textContent = 'window.injectedRan = true'
    document.head.append(script)
    const ran = (window as unknown as { injectedRan?: boolean }).injectedRan === true
    if (!ran) {
      await new Promise<void>((resolve) => {
        const check = () => (reported.violations.length > before ? resolve() : setTimeout(check, 10))
        check()
      })
    }
    return { ran, violations: [...reported.violations] }
  })
}

const INLINE_REFUSED = 'script-src-elem inline'

describe('the console at /ui under its Content-Security-Policy', () => {
  let opened: Opened

  beforeAll(async () => {
    opened = await open('/ui')
  }, 60_000)

  it('when /ui is served, then its policy allows only its own origin, no plugin, no base and no framing', () => {
    const directives = (opened.policy ?? '').split(';').map((directive) => directive.trim())
    expect(directives).toEqual(
      expect.arrayContaining([
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ]),
    )
    expect(directives.find((directive) => directive.startsWith('script-src'))).toMatch(
      /^script-src 'self'( 'sha256-[A-Za-z0-9+/]+=*')+$/,
    )
  })

  it('when the console lists the configs and goes live, then no violation of the policy is reported', async () => {
    const { page } = opened
    await page.locator('tr[data-dcname="datacenter-2"]').waitFor()
    expect(await page.locator('table.configs tbody th').allTextContents()).toEqual(['datacenter-1', 'datacenter-2'])
    await page.locator('.live.connected').waitFor()
    const { ran, violations } = await injectInlineScript(page)
    expect({ ran, violations }).toEqual({ ran: false, violations: [INLINE_REFUSED] })
    expect(opened.consoleReports.filter((report) => !report.includes('inline script'))).toEqual([])
  }, 60_000)
})

describe('Swagger UI at /swagger under its Content-Security-Policy', () => {
  let opened: Opened

  beforeAll(async () => {
    opened = await open('/swagger')
  }, 60_000)

  it('when /swagger is served, then its policy allows no inline script at all', () => {
    const directives = (opened.policy ?? '').split(';').map((directive) => directive.trim())
    expect(directives).toEqual(expect.arrayContaining(["script-src 'self'", "frame-ancestors 'none'"]))
  })

  it('when the page renders the operations and runs a request, then no violation of the policy is reported', async () => {
    const { page } = opened
    const list = page.locator('#operations-configs-listConfigs')
    await list.locator('.opblock-summary').click()
    await list.getByRole('button', { name: 'Try it out' }).click()
    await list.getByRole('button', { name: 'Execute' }).click()
    await list.locator('.live-responses-table .response-col_status', { hasText: '200' }).first().waitFor()
    const { ran, violations } = await injectInlineScript(page)
    expect({ ran, violations }).toEqual({ ran: false, violations: [INLINE_REFUSED] })
    expect(opened.consoleReports.filter((report) => !report.includes('inline script'))).toEqual([])
  }, 60_000)
})

describe('pages of another site that frame the service', () => {
  it('when another origin frames /ui and /swagger, then the browser refuses to render either', async () => {
    const page = await context.newPage()
    // `load` waits for the frames too, refused ones included.
    await page.goto(framer.url.href, { waitUntil: 'load' })
    const frames = page.frames().filter((frame) => frame !== page.mainFrame())
    expect(frames.map((frame) => frame.url())).toEqual([
      'chrome-error://chromewebdata/',
      'chrome-error://chromewebdata/',
    ])
  }, 60_000)
})
