/**
 * Swagger UI in a real browser (Debian's headless Chromium, driven by playwright-core) against
 * the real server, with every request to another origin blocked: the page must render and
 * work from what the service itself serves. The server runs with API_TOKEN, as in production,
 * so writes from the page work only through Authorize. test/support/ensure-chromium.sh
 * installs Chromium (`make test` runs it first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { launchChromium } from '../support/chromium.ts'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'

/** Generous: on a busy 2-core machine parsing the 1.5 MB bundle alone has taken 8 s. */
const WAIT_MS = 30_000

/** Clicks Execute and waits for the request it sends and for its status to be rendered. */
async function execute(page: Page, operation: Locator, method: string, path: string) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path),
    operation.getByRole('button', { name: 'Execute' }).click(),
  ])
  const status = String(response.status())
  await operation.locator('.live-responses-table .response-col_status', { hasText: status }).first().waitFor()
  return { status: response.status(), authorization: (await response.request().allHeaders()).authorization }
}

describe('Swagger UI at /swagger, with the internet blocked', () => {
  const token = randomBytes(16).toString('hex')
  let server: RunningServer
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const offOrigin: string[] = []
  const screenshot = join(tempDir('swagger-ui-'), 'swagger-ui.png')

  beforeAll(async () => {
    server = await startServer({ env: { API_TOKEN: token } })
    browser = await launchChromium(WAIT_MS)
    context = await browser.newContext({ viewport: { width: 1280, height: 1400 } })
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
        'GET /configs/{dcname}/history',
        'POST /configs/{dcname}/rollback',
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

  it('when POST is run with "Try it out" before Authorize, then the service refuses it with 401', async () => {
    const create = page.locator('#operations-configs-createConfig')
    await create.locator('.opblock-summary').click()
    await create.getByRole('button', { name: 'Try it out' }).click()
    expect(await execute(page, create, 'POST', '/configs')).toEqual({ status: 401, authorization: undefined })
  }, 60_000)

  it('when the token is given to Authorize, then POST with the example body creates the config: 201 on a fresh service', async () => {
    await page.locator('.auth-wrapper button.authorize').click()
    const modal = page.locator('.modal-ux')
    expect(await modal.textContent()).toContain('bearerAuth')
    await modal.locator('input').fill(token)
    await modal.locator('button.modal-btn.authorize').click()
    await modal.locator('button.btn-done').click()

    const create = page.locator('#operations-configs-createConfig')
    expect(await execute(page, create, 'POST', '/configs')).toEqual({ status: 201, authorization: `Bearer ${token}` })
    const stored = await fetch(`${server.url}/configs/datacenter-3`)
    expect(stored.status).toBe(200)
  }, 60_000)

  it('when /swagger/ (trailing slash) is opened, then the document loads and its operations render', async () => {
    const slash = await context.newPage()
    slash.setDefaultTimeout(WAIT_MS)
    try {
      await slash.goto(`${server.url}/swagger/`, { waitUntil: 'load' })
      await slash.locator('.opblock').first().waitFor()
      expect(await slash.locator('#operations-configs-createConfig').count()).toBe(1)
      expect(await slash.locator('body').textContent()).not.toContain('Failed to load API definition')
    } finally {
      await slash.close()
    }
  }, 60_000)

  it('when the page rendered and ran a request, then it needed nothing from another origin', () => {
    expect(offOrigin).toEqual([])
  })
})
