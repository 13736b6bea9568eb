/**
 * The console's answer to an edit that lost a race, in a real browser against the real service:
 * someone else writes the config while it is edited, Save gets a 412, and the edit is merged
 * three ways with their revision (base: the revision the edit started from). What only I
 * changed is applied, what only they changed is kept, what we both changed is mine to decide;
 * the merge is written with If-Match of their revision, and only a button that says
 * "Overwrite" writes my whole edit over theirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import type { Page, Request } from 'playwright-core'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { type ConsoleBrowser, launchConsoleBrowser, screenshot, seriousViolations } from './browser.ts'

const token = randomBytes(16).toString('hex')
let server: RunningServer
let console_: ConsoleBrowser
const shots = tempDir('console-merge-screenshots-')

async function write(method: 'PUT' | 'PATCH', dcname: string, metadata: Record<string, unknown>) {
  const response = await fetch(`${server.url}/configs/${dcname}`, {
    method,
    headers: {
      'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ metadata }),
  })
  if (response.status >= 300) throw new Error(`${method} ${dcname}: ${response.status} ${await response.text()}`)
  return Number(response.headers.get('etag')?.replaceAll('"', ''))
}

async function storedMetadata(dcname: string) {
  return (await (await fetch(`${server.url}/configs/${dcname}`)).json()).metadata
}

/** Opens the editor on `dcname`, puts `metadata` in it, lets `meanwhile` write, and saves: the conflict panel. */
async function editLosingTo(dcname: string, metadata: Record<string, unknown>, meanwhile: () => Promise<number>) {
  const page = await console_.open(`/ui/configs/${dcname}`, { token })
  await page.getByRole('button', { name: 'Edit' }).click()
  await page.locator('#config-json').fill(JSON.stringify({ dcname, metadata }, null, 2))
  const theirs = await meanwhile()
  await page.getByRole('button', { name: 'Save' }).click()
  const panel = page.locator('.conflict')
  await panel.waitFor()
  return { page, panel, theirs }
}

/** Clicks `name` in the panel and returns the PUT it sent, once the page says it saved. */
async function savedBy(page: Page, name: string): Promise<Request> {
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'PUT'),
    page.locator('.conflict').getByRole('button', { name }).click(),
  ])
  await page.locator('.notice', { hasText: 'Saved' }).waitFor()
  return request
}

describe('the web console: an edit that lost a race to another write', () => {
  beforeAll(async () => {
    server = await startServer({ env: { API_TOKEN: token } })
    console_ = await launchConsoleBrowser(server.url)
  }, 60_000)

  afterAll(async () => {
    await console_?.close()
    await server?.stop()
  })

  it('when someone else patched another key, then the merge keeps their key, applies mine, and is saved with If-Match of their revision', async () => {
    await write('PUT', 'merge-1', { team: 'alpha', owner: 'ann', tier: 1 })
    const { page, panel, theirs } = await editLosingTo('merge-1', { team: 'alpha', owner: 'me' }, () =>
      write('PATCH', 'merge-1', { team: 'beta' }),
    )
    expect(await panel.locator('fieldset').count()).toBe(0)
    expect(await storedMetadata('merge-1')).toEqual({ team: 'beta', owner: 'ann', tier: 1 })
    const request = await savedBy(page, `Save the merged edit on revision ${theirs}`)
    expect(request.headers()['if-match']).toBe(`"${theirs}"`)
    expect(await storedMetadata('merge-1')).toEqual({ team: 'beta', owner: 'me' })
  }, 60_000)

  it('when we both changed the same key, then it is shown as a conflict, and the merge is saved only once it is decided', async () => {
    await write('PUT', 'merge-2', { team: 'alpha', owner: 'ann', region: 'eu' })
    const { page, panel, theirs } = await editLosingTo(
      'merge-2',
      { team: 'mine', owner: 'ann', region: 'eu', note: 'added by me' },
      () => write('PUT', 'merge-2', { team: 'theirs', owner: 'bob', region: 'eu' }),
    )
    const conflict = panel.locator('fieldset[data-pointer="/metadata/team"]')
    expect(await panel.locator('fieldset').count()).toBe(1)
    expect(await conflict.textContent()).toContain('Mine: "mine"')
    expect(await conflict.textContent()).toContain('Theirs: "theirs"')
    const save = panel.getByRole('button', { name: `Save the merged edit on revision ${theirs}` })
    expect(await save.isDisabled()).toBe(true)
    expect(await seriousViolations(page)).toEqual([])
    await screenshot(page, shots, 'merge-conflict-1400')

    await conflict.getByLabel('Mine').check()
    await savedBy(page, `Save the merged edit on revision ${theirs}`)
    expect(await storedMetadata('merge-2')).toEqual({ team: 'mine', owner: 'bob', region: 'eu', note: 'added by me' })
  }, 60_000)

  it('when theirs is chosen for a conflict, then their value stays and my other changes are still applied', async () => {
    await write('PUT', 'merge-3', { team: 'alpha', limits: { cpu: { enabled: true, value: '1' } } })
    const { page, panel, theirs } = await editLosingTo(
      'merge-3',
      { team: 'mine', limits: { cpu: { enabled: false, value: '1' } } },
      () => write('PATCH', 'merge-3', { team: 'theirs', limits: { cpu: { value: '2' } } }),
    )
    await panel.locator('fieldset[data-pointer="/metadata/team"]').getByLabel('Theirs').check()
    await savedBy(page, `Save the merged edit on revision ${theirs}`)
    expect(await storedMetadata('merge-3')).toEqual({ team: 'theirs', limits: { cpu: { enabled: false, value: '2' } } })
  }, 60_000)

  it('when "Overwrite" is chosen, then my whole edit replaces their revision (If-Match of theirs), their key included', async () => {
    await write('PUT', 'merge-4', { team: 'alpha', owner: 'ann' })
    const { page, theirs } = await editLosingTo('merge-4', { team: 'alpha', owner: 'me' }, () =>
      write('PATCH', 'merge-4', { team: 'beta' }),
    )
    const request = await savedBy(page, `Overwrite revision ${theirs} with my edit`)
    expect(request.headers()['if-match']).toBe(`"${theirs}"`)
    expect(await storedMetadata('merge-4')).toEqual({ team: 'alpha', owner: 'me' })
    expect(console_.offOrigin).toEqual([])
  }, 60_000)
})
