/**
 * Swagger UI in a real browser (Debian's headless Chromium, driven by playwright-core) against
 * the real server, with every request to another origin blocked: the page must render and
 * work from what the service itself serves. test/support/ensure-chromium.sh installs Chromium
 * (`make test` runs it first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
/** Generous: on a busy 2-core machine parsing the 1.5 MB bundle alone has taken 8 s. */
const WAIT_MS = 30_000

describe('Swagger UI at /swagger, with the internet blocked', () => {
  let server: RunningServer
  let browser: Browser
  let page: Page
  const offOrigin: string[] = []
  const screenshot = join(tempDir('swagger-ui-'), 'swagger-ui.png')

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run test/support/ensure-chromium.sh`)
    server = await startServer()
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: WAIT_MS })
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } })
    const origin = new URL(server.url).origin
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (new URL(url).origin === origin) return route.continue()
      offOrigin.push(url)
      return route.abort('blockedbyclient')
    })
    page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    await page.goto(`${server.url}/swagger`, { waitUntil: 'load' })
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('when the page loads, then the /configs operations are rendered from the document', async () => {
    await page.locator('.opblock').first().waitFor()
    const operations = await page
      .locator('.opblock-summary')
      .evaluateAll((nodes) =>
        nodes.map((node) =>
          [node.querySelector('.opblock-summary-method'), node.querySelector('.opblock-summary-path')]
            .map((part) => part?.textContent?.trim().replace(/\u200b/g, ''))
            .join(' '),
        ),
      )
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /configs',
        'POST /configs',
        'GET /configs/{dcname}',
        'PUT /configs/{dcname}',
        'PATCH /configs/{dcname}',
        'DELETE /configs/{dcname}',
        'GET /search',
      ]),
    )
  }, 40_000)

  it('when List is run with "Try it out" and "Execute", then a 200 with the seed configs is rendered', async () => {
    const list = page.locator('#operations-configs-listConfigs')
    await list.locator('.opblock-summary').click()
    await list.getByRole('button', { name: 'Try it out' }).click()
    await list.getByRole('button', { name: 'Execute' }).click()
    const live = list.locator('.live-responses-table .response')
    await live.first().waitFor()
    expect((await live.locator('.response-col_status').first().textContent())?.trim()).toBe('200')
    expect(await live.locator('.response-col_description').first().textContent()).toContain('datacenter-1')
    await list.scrollIntoViewIfNeeded()
    await page.screenshot({ path: screenshot, fullPage: false })
    expect(existsSync(screenshot)).toBe(true)
    console.info(`swagger-ui screenshot: ${screenshot}`)
  }, 60_000)

  it('when the page rendered and ran a request, then it needed nothing from another origin', () => {
    expect(offOrigin).toEqual([])
  })
})
