/**
 * The console's history flows in a real browser against the real service: the history table,
 * a diff between two revisions and between a revision and now, rollback (with If-Match) and
 * undelete by rollback. They use the history endpoints of the README's API section
 * (GET /configs/{dcname}/history, GET /configs/{dcname}?revision=N,
 * POST /configs/{dcname}/rollback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
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
const shots = tempDir('console-history-screenshots-')

async function write(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return Number(response.headers.get('etag')?.replaceAll('"', '') ?? Number.NaN)
}

describe('the web console: history, diff and rollback', () => {
  const revisions: number[] = []

  beforeAll(async () => {
    server = await startServer({ env: { API_TOKEN: token } })
    console_ = await launchConsoleBrowser(server.url)
    revisions.push(await write('PUT', '/configs/hist-1', { metadata: { team: 'one', monitoring: { enabled: true } } }))
    revisions.push(await write('PUT', '/configs/hist-1', { metadata: { team: 'two', monitoring: { enabled: true } } }))
    revisions.push(
      await write('PUT', '/configs/hist-1', { metadata: { team: 'three', monitoring: { enabled: false } } }),
    )
  }, 60_000)

  afterAll(async () => {
    await console_?.close()
    await server?.stop()
  })

  it('when a config page is opened, then its history lists every write newest first with time, actor and type', async () => {
    const page = await console_.open('/ui/configs/hist-1', { token })
    await page.locator('table.history tbody tr').nth(2).waitFor()
    const entries = await page
      .locator('table.history tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 4).map((cell) => cell.textContent?.trim() ?? '')))
    expect(entries.map(([revision, type]) => [Number(revision), type])).toEqual([
      [revisions[2], 'MODIFIED'],
      [revisions[1], 'MODIFIED'],
      [revisions[0], 'ADDED'],
    ])
    for (const [, , time, actor] of entries) {
      expect(time).not.toBe('')
      expect(actor).toBe('api-token')
    }
    expect(await page.locator('table.history time').first().getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/)
  }, 60_000)

  it('when two revisions are compared, then the diff shows what changed between them; against "now" too', async () => {
    const page = await console_.open('/ui/configs/hist-1', { token })
    await page.locator('table.history tbody tr').nth(2).waitFor()
    await page.getByLabel('From', { exact: true }).selectOption(String(revisions[0]))
    await page.getByLabel('To', { exact: true }).selectOption(String(revisions[1]))
    await page.getByRole('button', { name: 'Show the diff' }).click()
    const diff = page.locator('figure.diff')
    await diff.waitFor()
    const lines = async (tag: 'ins' | 'del') => (await diff.locator(tag).allTextContents()).join('\n')
    // Key order is the store's: only the changed lines are asserted, not their neighbours' commas.
    expect(await diff.locator('del').count()).toBe(1)
    expect(await lines('del')).toContain('"team": "one"')
    expect(await diff.locator('ins').count()).toBe(1)
    expect(await lines('ins')).toContain('"team": "two"')

    await page.getByLabel('To', { exact: true }).selectOption('current')
    await page.getByRole('button', { name: 'Show the diff' }).click()
    await diff.locator('ins', { hasText: 'three' }).waitFor()
    expect(await lines('ins')).toContain('"enabled": false')
    expect(await lines('del')).toContain('"enabled": true')
  }, 60_000)

  it('when a rollback to an older revision is confirmed, then that state is written again as a new revision, with If-Match', async () => {
    const page = await console_.open('/ui/configs/hist-1', { token })
    await page.locator('table.history tbody tr').nth(2).waitFor()
    await page.getByRole('button', { name: `Roll back to revision ${revisions[0]}` }).click()
    const dialog = page.getByRole('dialog', { name: 'Roll back hist-1?' })
    await dialog.waitFor()
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/configs/hist-1/rollback')),
      dialog.getByRole('button', { name: `Roll back to revision ${revisions[0]}` }).click(),
    ])
    expect(request.headers()['if-match']).toBe(`"${revisions[2]}"`)
    expect(request.postDataJSON()).toEqual({ revision: revisions[0] })
    await page.locator('.notice', { hasText: `Rolled back to revision ${revisions[0]}` }).waitFor()
    const now = await fetch(`${server.url}/configs/hist-1`)
    expect(await now.json()).toEqual({ dcname: 'hist-1', metadata: { team: 'one', monitoring: { enabled: true } } })
    await page.locator('table.history tbody tr').nth(3).waitFor()
    expect(await page.locator('.revision').textContent()).toBe(
      `revision ${now.headers.get('etag')?.replaceAll('"', '')}`,
    )
  }, 60_000)

  it('when a deleted config is rolled back, then it exists again', async () => {
    await write('PUT', '/configs/hist-2', { metadata: { team: 'gone-soon' } })
    await write('DELETE', '/configs/hist-2')
    const page = await console_.open('/ui/configs/hist-2', { token })
    await page.getByText('There is no config named').waitFor()
    const added = page.locator('table.history tbody tr', { hasText: 'ADDED' })
    await added.getByRole('button', { name: /^Roll back to revision/ }).click()
    await page
      .getByRole('dialog', { name: 'Roll back hist-2?' })
      .getByRole('button', { name: /^Roll back/ })
      .click()
    await page.locator('.notice', { hasText: 'Rolled back' }).waitFor()
    const now = await fetch(`${server.url}/configs/hist-2`)
    expect(now.status).toBe(200)
    expect(await now.json()).toEqual({ dcname: 'hist-2', metadata: { team: 'gone-soon' } })
  }, 60_000)

  it('when a diff against now is shown and a rollback makes now equal its other side, then the diff is drawn again: no difference', async () => {
    await write('PUT', '/configs/hist-3', { metadata: { team: 'first' } })
    await write('PUT', '/configs/hist-3', { metadata: { team: 'second', owner: 'ann' } })
    const page = await console_.open('/ui/configs/hist-3', { token })
    const first = await page.locator('table.history tbody tr').nth(1).getAttribute('data-revision')
    await page.getByLabel('From', { exact: true }).selectOption(first ?? '')
    await page.getByRole('button', { name: 'Show the diff' }).click()
    const caption = page.locator('figure.diff figcaption')
    await caption.filter({ hasText: 'added' }).waitFor()

    await page.getByRole('button', { name: `Roll back to revision ${first}` }).click()
    await page
      .getByRole('dialog', { name: 'Roll back hist-3?' })
      .getByRole('button', { name: /^Roll back/ })
      .click()
    await page.locator('.notice', { hasText: 'Rolled back' }).waitFor()
    const now = (await fetch(`${server.url}/configs/hist-3`)).headers.get('etag')?.replaceAll('"', '')
    await caption.filter({ hasText: 'no difference' }).waitFor()
    expect((await caption.textContent())?.replace(/\s+/g, ' ').trim()).toBe(
      `From revision ${first} to now (revision ${now}): no difference.`,
    )
  }, 60_000)

  it('when a config page is open and another client writes the config, then the page shows the new revision and its history, without a reload', async () => {
    await write('PUT', '/configs/hist-4', { metadata: { team: 'before' } })
    const page = await console_.open('/ui/configs/hist-4', { token })
    await page.locator('.live.connected').waitFor()
    await page.evaluate(() => {
      ;(window as unknown as { notReloaded: boolean }).notReloaded = true
    })
    const revision = await write('PUT', '/configs/hist-4', { metadata: { team: 'after' } })
    await page.locator('.revision', { hasText: `revision ${revision}` }).waitFor()
    await page.locator(`table.history tbody tr[data-revision="${revision}"]`).waitFor()
    expect(await page.locator('pre.json').first().textContent()).toContain('"team": "after"')

    await write('DELETE', '/configs/hist-4')
    await page.getByText('There is no config named').waitFor()
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true)
  }, 60_000)

  it("when the history is shown 400 px wide, then each entry's actor and Roll back button are in view without scrolling sideways, and the button works", async () => {
    const page = await console_.open('/ui/configs/hist-1', { width: NARROW, token })
    const row = page.locator('table.history tbody tr').nth(1)
    await row.waitFor()
    const inView = async (selector: string) =>
      row.locator(selector).evaluate((element) => {
        const box = element.getBoundingClientRect()
        element.scrollIntoView({ block: 'center', inline: 'nearest' })
        const moved = element.getBoundingClientRect()
        const hit = document.elementFromPoint(moved.x + moved.width / 2, moved.y + moved.height / 2)
        return {
          width: box.width > 0,
          inside: box.left >= 0 && box.right <= window.innerWidth,
          unscrolled: moved.left === box.left,
          hit: hit === element || element.contains(hit),
        }
      })
    const expected = { width: true, inside: true, unscrolled: true, hit: true }
    expect(await inView('td:nth-child(4)')).toEqual(expected)
    expect(await inView('button')).toEqual(expected)
    expect(await row.locator('td:nth-child(4)').textContent()).toContain('api-token')
    await row.getByRole('button', { name: /^Roll back to revision/ }).click()
    await page.getByRole('dialog', { name: 'Roll back hist-1?' }).waitFor()
  }, 60_000)

  for (const width of [WIDE, NARROW]) {
    it(`when the history and a diff are shown ${width} px wide, then axe finds nothing serious and nothing overflows`, async () => {
      const page = await console_.open('/ui/configs/hist-1', { width })
      await page.locator('table.history tbody tr').nth(2).waitFor()
      await page.getByRole('button', { name: 'Show the diff' }).click()
      await page.locator('figure.diff').waitFor()
      expect(await seriousViolations(page)).toEqual([])
      expect(await overflowsSideways(page)).toBe(false)
      await screenshot(page, shots, `history-${width}`)
    }, 60_000)
  }

  it('when the flows ran, then the console needed nothing from another origin', () => {
    expect(console_.offOrigin).toEqual([])
  })
})
