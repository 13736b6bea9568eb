/**
 * The console's name prefix, folder view and rollback entries in a real browser against the real
 * service: the prefix box narrows the list and lives in the URL, the folders group names by their
 * next "-" segment and open as a prefix, and a history entry a rollback wrote says what it restored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import type { Page } from 'playwright-core'
import { type RunningServer, startServer } from '../support/server.ts'
import { type ConsoleBrowser, launchConsoleBrowser, seriousViolations } from './browser.ts'

const token = randomBytes(16).toString('hex')
let server: RunningServer
let console_: ConsoleBrowser

async function write(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return Number(response.headers.get('etag')?.replaceAll('"', '') ?? Number.NaN)
}

/** The names the list shows, once it shows `count` rows. */
async function listed(page: Page, count: number): Promise<string[]> {
  const rows = page.locator('table.configs tbody tr')
  await page.waitForFunction((n) => document.querySelectorAll('table.configs tbody tr').length === n, count)
  return rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-dcname') ?? ''))
}

describe('the web console: name prefix, folders and rollback entries', () => {
  beforeAll(async () => {
    server = await startServer({ env: { API_TOKEN: token, SEED: 'false' } })
    console_ = await launchConsoleBrowser(server.url)
    for (const dcname of ['payments-eu-1', 'payments-eu-2', 'payments-us-1', 'payments', 'shipping-1']) {
      await write('PUT', `/configs/${dcname}`, { metadata: { team: dcname.split('-')[0] } })
    }
  }, 60_000)

  afterAll(async () => {
    await console_?.close()
    await server?.stop()
  })

  it('when a prefix is typed and applied, then the list shows only the names starting with it, and the URL keeps it', async () => {
    const page = await console_.open('/ui', { token })
    expect(await listed(page, 5)).toHaveLength(5)
    await page.getByLabel('Name starts with').fill('payments-eu-')
    await page.getByRole('button', { name: 'Apply filters' }).click()
    expect(await listed(page, 2)).toEqual(['payments-eu-1', 'payments-eu-2'])
    expect(new URL(page.url()).searchParams.get('prefix')).toBe('payments-eu-')
    await page.reload()
    expect(await listed(page, 2)).toEqual(['payments-eu-1', 'payments-eu-2'])
    expect(await page.getByLabel('Name starts with').inputValue()).toBe('payments-eu-')
    expect(await seriousViolations(page)).toEqual([])
  }, 60_000)

  it('when a folder is opened, then its prefix is set and the folders below it are shown', async () => {
    const page = await console_.open('/ui', { token })
    const folders = page.getByRole('navigation', { name: 'Folders' })
    await folders.getByRole('button', { name: 'Open folder payments-' }).waitFor()
    expect(await folders.locator('.folder-list button').allTextContents()).toEqual(['payments- (3)', 'shipping- (1)'])
    await folders.getByRole('button', { name: 'Open folder payments-' }).click()
    expect(await listed(page, 3)).toEqual(['payments-eu-1', 'payments-eu-2', 'payments-us-1'])
    expect(new URL(page.url()).searchParams.get('prefix')).toBe('payments-')
    expect(await folders.locator('.folder-list button').allTextContents()).toEqual([
      'payments-eu- (2)',
      'payments-us- (1)',
    ])
    await folders.getByRole('button', { name: 'All configs' }).click()
    expect(await listed(page, 5)).toHaveLength(5)
  }, 60_000)

  it('when the list is narrowed by a prefix, then a new config starting with it appears live, others do not', async () => {
    const page = await console_.open('/ui?prefix=payments-us-', { token })
    expect(await listed(page, 1)).toEqual(['payments-us-1'])
    await page.locator('.live.connected').waitFor()
    await write('PUT', '/configs/payments-eu-3', { metadata: {} })
    await write('PUT', '/configs/payments-us-2', { metadata: {} })
    expect(await listed(page, 2)).toEqual(['payments-us-1', 'payments-us-2'])
  }, 60_000)

  it('when a config was rolled back, then its history entry says which revision it restored', async () => {
    const first = await write('PUT', '/configs/rolled-1', { metadata: { step: 1 } })
    await write('PUT', '/configs/rolled-1', { metadata: { step: 2 } })
    await write('POST', '/configs/rolled-1/rollback', { revision: first })
    const page = await console_.open('/ui/configs/rolled-1', { token })
    const newest = page.locator('table.history tbody tr').first()
    await newest.locator('.rollback-of').waitFor()
    expect(await newest.locator('.rollback-of').textContent()).toBe(`rollback to revision ${first}`)
    expect(await page.locator('table.history .rollback-of').count()).toBe(1)
  }, 60_000)
})
