/**
 * The console's rollout pages and a config's consumers line, in a real browser against the real
 * service (a child process on a SQLite file, the rollout driver polling every 20 ms, named
 * tokens: alice and bob, both admins), every other origin blocked. Rollouts are created by the
 * test through the API with no Prometheus gate: one with a long bake, steered from its page
 * (approve refused for its creator, approved by another, pause, resume, abort and revert), one
 * with a short bake the page follows to its end. Consumer reports are PUT by the test.
 * Accessibility and screenshots at 1400 and 400 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
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

const SECRETS = { alice: 'alice-token-4b1e9d', bob: 'bob-token-7a2c5f' }
const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex')
const TOKENS_FILE = `
tokens:
  - { name: alice, sha256: ${sha256(SECRETS.alice)}, role: admin }
  - { name: bob, sha256: ${sha256(SECRETS.bob)}, role: admin }
`

let server: RunningServer
let console_: ConsoleBrowser
const shots = tempDir('console-rollout-screenshots-')

async function call(method: string, path: string, body?: unknown, token = SECRETS.alice) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined, etag: response.headers.get('etag') }
}

/** Creates the configs, each with replicas 1; returns the revision of each. */
async function putConfigs(names: string[]): Promise<number[]> {
  const revisions: number[] = []
  for (const dcname of names) {
    const reply = await call('PUT', `/configs/${dcname}`, { metadata: { replicas: 1 } })
    if (reply.status >= 300) throw new Error(`PUT ${dcname}: ${reply.status} ${JSON.stringify(reply.json)}`)
    revisions.push(Number(reply.etag?.replaceAll('"', '')))
  }
  return revisions
}

/** Alice starts a rollout of replicas 2 over `prefix`: its first wave the first config, then the rest. */
async function startRollout(prefix: string, first: string, bake: string, approvals: number): Promise<string> {
  const reply = await call('POST', '/rollouts', {
    change: { merge: { replicas: 2 } },
    target: { prefix },
    waves: [{ dcnames: [first] }, { percent: 100 }],
    bake,
    gates: [],
    ...(approvals > 0 ? { approval: { required: approvals } } : {}),
    onFailure: 'revert',
  })
  if (reply.status !== 201) throw new Error(`POST /rollouts: ${reply.status} ${JSON.stringify(reply.json)}`)
  return reply.json.id
}

async function report(dcname: string, consumer: string, revision: number, state: string, message?: string) {
  const reply = await call('PUT', `/configs/${dcname}/consumers/${consumer}`, { revision, state, message })
  if (reply.status >= 300) throw new Error(`report ${consumer}: ${reply.status} ${JSON.stringify(reply.json)}`)
}

function banners(page: Page) {
  return page.locator('main .error[role="alert"]')
}

async function waitForStatus(page: Page, status: string) {
  await page.locator(`.rollout-status[data-status="${status}"]`).waitFor()
}

async function waveStates(page: Page, wave: number): Promise<string[][]> {
  return page
    .locator(`table.wave[data-wave="${wave}"] tbody tr`)
    .evaluateAll((rows) =>
      rows.map((row) => [row.getAttribute('data-dcname') ?? '', row.querySelector('.state')?.textContent ?? '']),
    )
}

describe('the web console: rollouts and consumers', () => {
  beforeAll(async () => {
    const file = join(tempDir('console-rollout-tokens-'), 'tokens.yaml')
    writeFileSync(file, TOKENS_FILE)
    server = await startServer({ env: { API_TOKENS_FILE: file, ROLLOUT_POLL_MS: '20' } })
    console_ = await launchConsoleBrowser(server.url)
  }, 60_000)

  afterAll(async () => {
    await console_?.close()
    await server?.stop()
  })

  it("when consumers report on a config, then its page says how many run its revision and each rejection's message, and reads again when the config changes", async () => {
    const [revision] = await putConfigs(['shop-1'])
    await report('shop-1', 'web-a', revision as number, 'applied')
    await report('shop-1', 'web-b', revision as number, 'applied')
    await report('shop-1', 'web-c', revision as number, 'rejected', 'nginx: unknown directive "listn"')
    const page = await console_.open('/ui/configs/shop-1', { token: SECRETS.alice })
    const count = page.locator('.consumers-count')
    await count.waitFor()
    expect(await count.textContent()).toBe(`2 of 3 on revision ${revision}, 1 rejected`)
    expect(await page.locator('.rejections li').allTextContents()).toEqual([
      `web-c rejected revision ${revision}: nginx: unknown directive "listn"`,
    ])

    const newer = await call('PUT', '/configs/shop-1', { metadata: { replicas: 5 } })
    const next = Number(newer.etag?.replaceAll('"', ''))
    await page.locator('.consumers-count', { hasText: `on revision ${next}` }).waitFor()
    expect(await count.textContent()).toBe(`0 of 3 on revision ${next}, 1 rejected`)
    await screenshot(page, shots, 'consumers-1400')
  }, 60_000)

  it('when a config has no consumer reports, then its page says so', async () => {
    await putConfigs(['quiet-1'])
    const page = await console_.open('/ui/configs/quiet-1', { token: SECRETS.alice })
    await page.getByText('No consumer reports on this config.').waitFor()
  }, 60_000)

  it('when a rollout is listed, then its row gives id, status, change, target and progress, and links to its page', async () => {
    await putConfigs(['list-0', 'list-1'])
    const id = await startRollout('list-', 'list-0', '1h', 1)
    const page = await console_.open('/ui', { token: SECRETS.alice })
    const reads: string[] = []
    page.on('request', (r) => void (new URL(r.url()).pathname.startsWith('/rollouts') && reads.push(r.url())))
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Rollouts' }).click()
    await page.waitForURL((url) => url.pathname === '/ui/rollouts')
    const row = page.locator(`tr[data-rollout="${id}"]`)
    await row.locator('td', { hasText: 'merge' }).waitFor()
    expect(await row.locator('th, td').allTextContents()).toEqual([
      id,
      'pending-approval',
      'merge {"replicas":2}',
      'prefix list-',
      'not started (2 waves), 0 of 2 applied',
    ])
    // The list's summaries carry change and target: one request, none per rollout.
    expect(reads.map((url) => new URL(url).pathname)).toEqual(['/rollouts'])
    await row.getByRole('link', { name: id }).click()
    await page.waitForURL((url) => url.pathname === `/ui/rollouts/${id}`)
    await waitForStatus(page, 'pending-approval')
    await call('POST', `/rollouts/${id}/abort`)
  }, 60_000)

  it('when its creator presses Approve, then the banner gives the 409 detail; another approves, pauses, resumes and aborts it from its page', async () => {
    await putConfigs(['steer-0', 'steer-1', 'steer-2'])
    const id = await startRollout('steer-', 'steer-0', '1h', 1)
    const refused = await call('POST', `/rollouts/${id}/approve`)
    expect(refused.status).toBe(409)

    const own = await console_.open(`/ui/rollouts/${id}`, { token: SECRETS.alice })
    await waitForStatus(own, 'pending-approval')
    await own.getByRole('button', { name: 'Approve' }).click()
    await banners(own).first().waitFor()
    expect(await banners(own).allTextContents()).toEqual([`409 ${refused.json.title}: ${refused.json.detail}`])
    expect((await call('GET', `/rollouts/${id}`)).json.status).toBe('pending-approval')

    const page = await console_.open(`/ui/rollouts/${id}`, { token: SECRETS.bob })
    await page.getByRole('button', { name: 'Approve' }).click()
    await waitForStatus(page, 'baking')
    expect(await waveStates(page, 1)).toEqual([['steer-0', 'applied']])
    expect(await waveStates(page, 2)).toEqual([
      ['steer-1', 'pending'],
      ['steer-2', 'pending'],
    ])
    expect(await page.locator('.timeline li[data-event="approved"]').textContent()).toContain('bob')
    await page.locator('.notice', { hasText: 'Approve: the rollout is now' }).waitFor()

    await page.getByRole('button', { name: 'Pause' }).click()
    await waitForStatus(page, 'paused')
    expect((await call('GET', `/rollouts/${id}`)).json.status).toBe('paused')
    await page.getByRole('button', { name: 'Resume' }).click()
    await waitForStatus(page, 'baking')
    await screenshot(page, shots, 'rollout-1400')

    await page.getByRole('button', { name: 'Abort' }).click()
    await waitForStatus(page, 'aborted')
    expect(await waveStates(page, 1)).toEqual([['steer-0', 'reverted']])
    expect((await call('GET', '/configs/steer-0')).json.metadata).toEqual({ replicas: 1 })
    expect(await page.getByRole('button', { name: /Pause|Resume|Abort|Approve/ }).count()).toBe(0)
    expect(console_.offOrigin).toEqual([])
  }, 60_000)

  it('when a rollout runs by itself, then its page follows it to the end without a reload', async () => {
    await putConfigs(['short-0', 'short-1'])
    const id = await startRollout('short-', 'short-0', '100ms', 0)
    const page = await console_.open(`/ui/rollouts/${id}`, { token: SECRETS.alice })
    await waitForStatus(page, 'completed')
    expect(await waveStates(page, 2)).toEqual([['short-1', 'applied']])
    expect(await page.locator('.progress').textContent()).toBe('wave 2 of 2, 2 of 2 applied')
    expect(await page.locator('.timeline li[data-event="completed"]').count()).toBe(1)
  }, 60_000)

  it('when a rollout page names none, then it says so', async () => {
    const page = await console_.open('/ui/rollouts/ro-nothing', { token: SECRETS.alice })
    await page.getByText('There is no rollout').waitFor()
  }, 60_000)

  for (const [width, label] of [
    [WIDE, '1400'],
    [NARROW, '400'],
  ] as const) {
    it(`when the rollout list, a rollout and a config with consumers are shown ${label} px wide, then axe finds nothing serious and nothing overflows`, async () => {
      const [revision] = await putConfigs([`axe${label}-0`, `axe${label}-1`])
      await report(`axe${label}-0`, 'pod-1', revision as number, 'rejected', 'a long message '.repeat(8))
      const id = await startRollout(`axe${label}-`, `axe${label}-0`, '1h', 1)
      const list = await console_.open('/ui/rollouts', { width, token: SECRETS.alice })
      await list.locator(`tr[data-rollout="${id}"] td`, { hasText: 'merge' }).waitFor()
      expect(await seriousViolations(list)).toEqual([])
      expect(await overflowsSideways(list)).toBe(false)
      await screenshot(list, shots, `rollouts-${label}`)
      const one = await console_.open(`/ui/rollouts/${id}`, { width, token: SECRETS.alice })
      await waitForStatus(one, 'pending-approval')
      expect(await seriousViolations(one)).toEqual([])
      expect(await overflowsSideways(one)).toBe(false)
      const config = await console_.open(`/ui/configs/axe${label}-0`, { width, token: SECRETS.alice })
      await config.locator('.rejections li').waitFor()
      expect(await seriousViolations(config)).toEqual([])
      expect(await overflowsSideways(config)).toBe(false)
      await call('POST', `/rollouts/${id}/abort`)
    }, 60_000)
  }
})
