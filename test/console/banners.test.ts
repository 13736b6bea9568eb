/**
 * The console's error banner in a real browser against the real service with named tokens
 * (roles and dcname prefixes): a refusal shows the service's own detail, one banner at a time,
 * until the next success; a refused filter says what filters are and leaves no list and no
 * live indicator pretending otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { type ConsoleBrowser, launchConsoleBrowser, NARROW, screenshot, seriousViolations } from './browser.ts'

const SECRETS = { reader: 'reader-token-6c1d8e', writer: 'writer-token-2f9a4b', admin: 'admin-token-7e3b5d' }
const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex')
const TOKENS_FILE = `
tokens:
  - { name: team-reader, sha256: ${sha256(SECRETS.reader)}, role: reader, prefixes: [payments-] }
  - { name: team-writer, sha256: ${sha256(SECRETS.writer)}, role: writer, prefixes: [payments-] }
  - { name: ops-admin, sha256: ${sha256(SECRETS.admin)}, role: admin }
`

let server: RunningServer
let console_: ConsoleBrowser
const shots = tempDir('console-banner-screenshots-')

async function put(dcname: string, metadata: Record<string, unknown>) {
  const response = await fetch(`${server.url}/configs/${dcname}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.admin}` },
    body: JSON.stringify({ metadata }),
  })
  if (response.status >= 300) throw new Error(`PUT ${dcname}: ${response.status} ${await response.text()}`)
}

/** The error banners a person sees in the page (the token dialog is not one). */
function banners(page: Page) {
  return page.locator('main .error[role="alert"]')
}

/** Sets (or, with '', forgets) the token through the Token button's dialog. */
async function useToken(page: Page, token: string) {
  await page.getByRole('button', { name: /^Token/ }).click()
  const dialog = page.getByRole('dialog', { name: 'API token' })
  await dialog.waitFor()
  if (token) {
    await dialog.getByLabel('Token').fill(token)
    await dialog.getByRole('button', { name: 'Use this token' }).click()
  } else {
    await dialog.getByRole('button', { name: 'Forget the token' }).click()
  }
  await dialog.waitFor({ state: 'hidden' })
}

async function rollBackTo(page: Page, revision: string) {
  await page.getByRole('button', { name: `Roll back to revision ${revision}` }).click()
  await page
    .getByRole('dialog', { name: /^Roll back/ })
    .getByRole('button', { name: `Roll back to revision ${revision}` })
    .click()
}

describe('the web console: error banners', () => {
  beforeAll(async () => {
    const file = join(tempDir('console-tokens-'), 'tokens.yaml')
    writeFileSync(file, TOKENS_FILE)
    server = await startServer({ env: { API_TOKENS_FILE: file } })
    console_ = await launchConsoleBrowser(server.url)
    await put('payments-1', { team: 'payments' })
    await put('payments-1', { team: 'payments', owner: 'ann' })
  }, 60_000)

  afterAll(async () => {
    await console_?.close()
    await server?.stop()
  })

  it('when a create is refused for lying outside the token prefixes, then the banner gives the service detail', async () => {
    const page = await console_.open('/ui', { token: SECRETS.writer })
    await page.getByRole('button', { name: 'New config' }).click()
    await page.locator('#config-json').fill(JSON.stringify({ dcname: 'other-1', metadata: {} }))
    await page.getByRole('button', { name: 'Create' }).click()
    await banners(page).first().waitFor()
    expect(await banners(page).allTextContents()).toEqual([
      '403 Forbidden: team-writer may not access "other-1": outside its prefixes.',
    ])
  }, 60_000)

  it('when two writes are refused in turn (a 403, then a 401), then one banner shows, the newest, until a write succeeds', async () => {
    const page = await console_.open('/ui/configs/payments-1', { token: SECRETS.reader })
    const first = await page.locator('table.history tbody tr').last().getAttribute('data-revision')
    await page.getByRole('button', { name: 'Edit' }).click()
    await page.getByRole('button', { name: 'Save' }).click()
    await banners(page).filter({ hasText: '403 Forbidden' }).waitFor()
    expect(await banners(page).allTextContents()).toEqual([
      '403 Forbidden: team-reader has the role reader, which may not replace.',
    ])

    await rollBackTo(page, first ?? '')
    await page.getByRole('dialog', { name: /^Roll back/ }).waitFor({ state: 'hidden' })
    expect(await banners(page).count()).toBe(1)

    await useToken(page, '')
    await rollBackTo(page, first ?? '')
    const asked = page.getByRole('dialog', { name: 'API token' })
    await asked.getByRole('button', { name: 'Cancel' }).click()
    await banners(page).filter({ hasText: '401 Unauthorized' }).waitFor()
    expect(await banners(page).count()).toBe(1)

    await useToken(page, SECRETS.admin)
    await rollBackTo(page, first ?? '')
    await page.locator('.notice', { hasText: 'Rolled back' }).waitFor()
    expect(await banners(page).count()).toBe(0)
  }, 60_000)

  it('when the list is opened with a filter the service refuses, then the banner says what filters are, and no list or live state is shown', async () => {
    const page = await console_.open('/ui?team=edge', { width: NARROW })
    await banners(page).first().waitFor()
    const [text] = await banners(page).allTextContents()
    expect(text).toContain('unknown query parameter "team"')
    expect(text).toContain('Filters are metadata.<path>')
    expect(text).toContain('or dcname')
    expect(await page.locator('table.configs').count()).toBe(0)
    expect(await page.locator('.live').textContent()).toBe('Not live')
    await screenshot(page, shots, 'refused-filter-400')
    expect(await seriousViolations(page)).toEqual([])
    expect(console_.offOrigin).toEqual([])
  }, 60_000)
})
