/**
 * The console on Deno: the same page, modules and vendor files, served by the service started
 * with package.json's start:deno, render the list, a config, a schema, a config's consumers and a
 * rollout in a real browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type RunningServer, startServer } from '../support/server.ts'
import { type ConsoleBrowser, launchConsoleBrowser } from './browser.ts'

describe('the web console served by Deno', () => {
  let server: RunningServer
  let console_: ConsoleBrowser

  beforeAll(async () => {
    server = await startServer({ runtime: 'deno', env: { ROLLOUT_POLL_MS: '20' } })
    console_ = await launchConsoleBrowser(server.url)
  }, 90_000)

  afterAll(async () => {
    await console_?.close()
    await server?.stop()
  })

  it('when /ui is opened, then the seed configs are listed and the watch is live', async () => {
    const page = await console_.open('/ui')
    await page.locator('tr[data-dcname="datacenter-2"]').waitFor()
    expect(await page.locator('table.configs tbody th').allTextContents()).toEqual(['datacenter-1', 'datacenter-2'])
    await page.locator('.live.connected').waitFor()
  }, 60_000)

  it('when a config page is opened, then its typed fields are rendered', async () => {
    const page = await console_.open('/ui/configs/datacenter-1')
    await page.locator('tr[data-limit="cpu"]').waitFor()
    expect(await page.locator('[data-field="monitoring.enabled"]').textContent()).toBe('Enabled')
    expect(await page.locator('tr[data-limit="cpu"]').textContent()).toContain('500m')
    expect(console_.offOrigin).toEqual([])
  }, 60_000)

  it('when the schema pages are opened, then the schema is listed and its page shows it with its violators', async () => {
    const schema = { type: 'object', properties: { monitoring: { required: ['interval'] } } }
    const put = await fetch(`${server.url}/schemas/datacenters`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prefix: 'datacenter-', mode: 'warn', schema }),
    })
    expect(put.status).toBe(201)
    const list = await console_.open('/ui/schemas')
    await list.locator('tr[data-schema="datacenters"]').waitFor()
    expect(await list.locator('tr[data-schema="datacenters"] td').allTextContents()).toEqual([
      'datacenter-',
      'warn',
      String((await put.json()).revision),
    ])
    const one = await console_.open('/ui/schemas/datacenters')
    await one.locator('table.violators tbody tr').nth(1).waitFor()
    expect(await one.locator('table.violators caption').textContent()).toBe('2 configs break it now')
    expect(console_.offOrigin).toEqual([])
  }, 60_000)

  it("when a config's consumers report and a rollout runs, then the consumers line and the rollout pages show them", async () => {
    const send = async (method: string, path: string, body: unknown) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return { status: response.status, json: await response.json(), etag: response.headers.get('etag') }
    }
    const made = await send('PUT', '/configs/deno-1', { metadata: { replicas: 1 } })
    const revision = Number(made.etag?.replaceAll('"', ''))
    expect((await send('PUT', '/configs/deno-1/consumers/pod-a', { revision, state: 'applied' })).status).toBe(200)
    const config = await console_.open('/ui/configs/deno-1')
    await config.locator('.consumers-count', { hasText: `1 of 1 on revision ${revision}` }).waitFor()

    const started = await send('POST', '/rollouts', {
      change: { merge: { replicas: 2 } },
      target: { prefix: 'deno-' },
      waves: [{ percent: 100 }],
      bake: '100ms',
      gates: [],
    })
    expect(started.status).toBe(201)
    const id = started.json.id as string
    const list = await console_.open('/ui/rollouts')
    await list.locator(`tr[data-rollout="${id}"] td`, { hasText: 'prefix deno-' }).waitFor()
    const one = await console_.open(`/ui/rollouts/${id}`)
    await one.locator('.rollout-status[data-status="completed"]').waitFor()
    expect(await one.locator('table.wave[data-wave="1"] tbody .state').allTextContents()).toEqual(['applied'])
    expect(console_.offOrigin).toEqual([])
  }, 60_000)
})
