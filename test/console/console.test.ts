/**
 * The web console's flows in a real browser against the real service (a child process on a
 * SQLite file, with API_TOKEN set as in production, so writes need the token), with every
 * request to another origin blocked: list, filter, paging, the total, live updates, `/` sent on
 * to the list, create, edit with field errors, delete, the token, keyboard use, accessibility,
 * and screenshots at 1400 and 400 px. (A conflicting edit: edit-merge.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import type { Page } from 'playwright-core'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import {
  type ConsoleBrowser,
  launchConsoleBrowser,
  NARROW,
  overflowsSideways,
  screenshot,
  seriousViolations,
  WIDE,
} from './browser.ts'

const token = randomBytes(16).toString('hex')
let server: RunningServer
let console_: ConsoleBrowser
const shots = tempDir('console-screenshots-')

/** A write from outside the browser, as curl would make it. */
async function put(dcname: string, metadata: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/configs/${dcname}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ metadata }),
  })
  if (response.status >= 300) throw new Error(`PUT ${dcname}: ${response.status} ${await response.text()}`)
  return Number(response.headers.get('etag')?.replaceAll('"', ''))
}

async function stored(dcname: string) {
  const response = await fetch(`${server.url}/configs/${dcname}`)
  return { status: response.status, body: response.status === 200 ? await response.json() : undefined }
}

/** The rows of the list as the user reads them: name, metadata summary, revision. */
async function rows(page: Page): Promise<string[][]> {
  return page
    .locator('table.configs tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent?.trim() ?? '')))
}

async function replaceEditorText(page: Page, value: unknown) {
  await page.locator('#config-json').fill(JSON.stringify(value, null, 2))
}

describe('the web console at /ui', () => {
  beforeAll(async () => {
    server = await startServer({ env: { API_TOKEN: token } })
    console_ = await launchConsoleBrowser(server.url)
  }, 60_000)

  afterAll(async () => {
    await console_?.close()
    await server?.stop()
  })

  it('when /ui is opened, then the seed configs are listed with a metadata summary and their revisions', async () => {
    const page = await console_.open('/ui')
    await page.locator('table.configs tbody tr td.num', { hasText: /^\d+$/ }).nth(1).waitFor()
    expect(await rows(page)).toEqual([
      ['datacenter-1', 'monitoring on · cpu 500m', '1'],
      ['datacenter-2', 'monitoring on · cpu 500m', '2'],
    ])
    await page.locator('.live.connected').waitFor()
  }, 60_000)

  it('when a filter is applied, then the list narrows, the URL carries it, and the URL alone shows the same list', async () => {
    await put('payments-a', { team: 'payments' })
    await put('payments-b', { team: 'payments', monitoring: { enabled: false } })
    const page = await console_.open('/ui')
    await page.getByLabel('Field').first().fill('metadata.team')
    await page.getByLabel('Value').first().fill('payments')
    await page.getByRole('button', { name: 'Apply filters' }).click()
    await page.waitForURL((url) => url.searchParams.get('metadata.team') === 'payments')
    await page.locator('table.configs tbody tr[data-dcname="datacenter-1"]').waitFor({ state: 'detached' })
    expect((await rows(page)).map((row) => row[0])).toEqual(['payments-a', 'payments-b'])

    const shared = await console_.open(`/ui?metadata.team=payments&metadata.monitoring.enabled=false`)
    await shared.locator('table.configs tbody tr').first().waitFor()
    expect((await rows(shared)).map((row) => row[0])).toEqual(['payments-b'])
    expect(await shared.getByLabel('Field').first().inputValue()).toBe('metadata.team')
    expect(await shared.getByLabel('Value').nth(1).inputValue()).toBe('false')
  }, 60_000)

  it('when a list has more than a page, then "Next page" follows the Link header and the URL carries the cursor', async () => {
    const page = await console_.open('/ui?limit=1')
    await page.locator('table.configs tbody tr').first().waitFor()
    expect((await rows(page)).map((row) => row[0])).toEqual(['datacenter-1'])
    await page.getByRole('link', { name: 'Next page' }).click()
    await page.waitForURL((url) => url.searchParams.has('cursor') && url.searchParams.get('limit') === '1')
    await page.locator('table.configs tbody tr[data-dcname="datacenter-2"]').waitFor()
    expect((await rows(page)).map((row) => row[0])).toEqual(['datacenter-2'])
  }, 60_000)

  it('when a filtered list has more than a page, then the caption gives the total the filters match, kept live', async () => {
    await put('total-a', { team: 'totals' })
    await put('total-b', { team: 'totals' })
    const page = await console_.open('/ui?metadata.team=totals&limit=1')
    const caption = page.locator('table.configs caption')
    await caption.filter({ hasText: '2 configs matching the filters · 1 on this page' }).waitFor()
    await page.locator('.live.connected').waitFor()
    await put('total-c', { team: 'totals' })
    await caption.filter({ hasText: '3 configs matching the filters · 1 on this page' }).waitFor()
    // It was this page's one row: it leaves the page as it leaves the total.
    await put('total-a', { team: 'elsewhere' })
    await caption.filter({ hasText: '2 configs matching the filters · 0 on this page' }).waitFor()
  }, 60_000)

  it("when the service's bare address is opened, then the browser is sent on to the console's list", async () => {
    const page = await console_.open('/')
    expect(new URL(page.url()).pathname).toBe('/ui')
    await page.locator('tr[data-dcname="datacenter-1"]').waitFor()
  }, 60_000)

  it('when a config is written by another client, then the list shows it live, without a reload', async () => {
    const page = await console_.open('/ui')
    await page.locator('.live.connected').waitFor()
    await page.evaluate(() => {
      ;(window as unknown as { notReloaded: boolean }).notReloaded = true
    })
    const created = await put('live-1', { monitoring: { enabled: false }, owner: 'sre' })
    await page.locator('tr[data-dcname="live-1"]').waitFor()
    expect(await page.locator('tr[data-dcname="live-1"]').textContent()).toContain('monitoring off · owner: "sre"')
    expect(await page.locator('tr[data-dcname="live-1"] td.num').textContent()).toBe(String(created))

    const modified = await put('datacenter-2', { monitoring: { enabled: false } })
    await page.locator('tr[data-dcname="datacenter-2"] td.num', { hasText: String(modified) }).waitFor()
    expect(await page.locator('tr[data-dcname="datacenter-2"] td.summary').textContent()).toBe('monitoring off')
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true)
  }, 60_000)

  it('when no token is set and a config is created, then the 401 asks for a token and, once given, the create is sent again by itself', async () => {
    const page = await console_.open('/ui')
    await page.getByRole('button', { name: 'New config' }).click()
    await replaceEditorText(page, { dcname: 'created-1', metadata: { monitoring: { enabled: true }, team: 'web' } })
    await page.getByRole('button', { name: 'Create' }).click()
    const dialog = page.getByRole('dialog', { name: 'API token' })
    await dialog.waitFor()
    expect(await dialog.textContent()).toContain('401 Unauthorized: this needs a token')
    await dialog.getByLabel('Token').fill(token)
    const [retried] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.headers().authorization === `Bearer ${token}`),
      dialog.getByRole('button', { name: 'Use this token' }).click(),
    ])
    expect(retried.postDataJSON()).toEqual({
      dcname: 'created-1',
      metadata: { monitoring: { enabled: true }, team: 'web' },
    })
    await page.waitForURL((url) => url.pathname === '/ui/configs/created-1')
    await page.locator('h1', { hasText: 'created-1' }).waitFor()
    expect((await stored('created-1')).body).toEqual({
      dcname: 'created-1',
      metadata: { monitoring: { enabled: true }, team: 'web' },
    })
    expect(await page.locator('.banner').count()).toBe(0)
    expect(console_.requested.filter((url) => url.includes(token))).toEqual([])
  }, 60_000)

  it('when an edit is invalid, then each API error is shown at its line, listed with its pointer, and nothing is stored', async () => {
    const before = await stored('datacenter-1')
    const page = await console_.open('/ui/configs/datacenter-1', { token })
    await page.getByRole('button', { name: 'Edit' }).click()
    await replaceEditorText(page, {
      dcname: 'datacenter-1',
      metadata: { monitoring: { enabled: 'yes' }, limits: { cpu: { enabled: true, value: 'lots' } } },
    })
    await page.getByRole('button', { name: 'Save' }).click()
    const summary = page.locator('.error-summary')
    await summary.waitFor()
    // Lines of the pretty-printed body: 5 is "enabled": "yes", 10 is "value": "lots".
    expect(
      await page.locator('.editor-line.bad').evaluateAll((lines) => lines.map((l) => l.getAttribute('data-line'))),
    ).toEqual(['5', '10'])
    expect(await page.locator('.editor-line[data-line="5"] .inline-error').textContent()).toContain(
      'expected true, false',
    )
    expect(await page.locator('.editor-line[data-line="10"] .inline-error').textContent()).toContain('quantity')
    expect(await summary.textContent()).toContain('/metadata/monitoring/enabled')
    expect(await summary.textContent()).toContain('/metadata/limits/cpu/value')
    expect(await page.locator('#config-json').getAttribute('aria-invalid')).toBe('true')

    await summary.getByRole('button', { name: 'Line 10' }).click()
    const selected = await page
      .locator('#config-json')
      .evaluate((area: HTMLTextAreaElement) => area.value.slice(area.selectionStart, area.selectionEnd))
    expect(selected.trim()).toBe('"value": "lots"')
    expect(await stored('datacenter-1')).toEqual(before)
    await screenshot(page, shots, 'edit-errors-1400')
    expect(await seriousViolations(page)).toEqual([])
  }, 60_000)

  it('when Delete is confirmed, then the config is deleted (with If-Match) and the page says it is gone', async () => {
    await put('delete-me', { team: 'temp' })
    const page = await console_.open('/ui/configs/delete-me', { token })
    await page.getByRole('button', { name: 'Delete' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete delete-me?' })
    await dialog.waitFor()
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'DELETE'),
      dialog.getByRole('button', { name: 'Delete' }).click(),
    ])
    expect(request.headers()['if-match']).toMatch(/^"\d+"$/)
    await page.getByText('There is no config named').waitFor()
    expect((await stored('delete-me')).status).toBe(404)
  }, 60_000)

  it('when only the keyboard is used, then focus is visible and a config can be opened from the list', async () => {
    const page = await console_.open('/ui')
    await page.locator('tr[data-dcname="datacenter-1"]').waitFor()
    let focused = ''
    for (let i = 0; i < 30 && focused !== 'datacenter-1'; i++) {
      await page.keyboard.press('Tab')
      focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? '')
    }
    expect(focused).toBe('datacenter-1')
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)
    expect(outline).not.toBe('none')
    await page.keyboard.press('Enter')
    await page.waitForURL((url) => url.pathname === '/ui/configs/datacenter-1')
    await page.locator('h1', { hasText: 'datacenter-1' }).waitFor()
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1')
  }, 60_000)

  for (const [width, label] of [
    [WIDE, '1400'],
    [NARROW, '400'],
  ] as const) {
    it(`when both pages are shown ${label} px wide, then axe finds nothing serious, nothing overflows, and screenshots are saved`, async () => {
      const list = await console_.open('/ui', { width })
      await list.locator('table.configs tbody tr td.num', { hasText: /^\d+$/ }).first().waitFor()
      await list.locator('.live.connected').waitFor()
      expect(await seriousViolations(list)).toEqual([])
      expect(await overflowsSideways(list)).toBe(false)
      await screenshot(list, shots, `list-${label}`)

      const config = await console_.open('/ui/configs/datacenter-1', { width })
      await config.locator('.fields').waitFor()
      expect(await seriousViolations(config)).toEqual([])
      expect(await overflowsSideways(config)).toBe(false)
      await screenshot(config, shots, `config-${label}`)
    }, 60_000)
  }

  it('when every flow above ran, then the console needed nothing from another origin', () => {
    expect(console_.requested.length).toBeGreaterThan(0)
    expect(console_.offOrigin).toEqual([])
  })
})
