/**
 * The console on Deno: the same page, modules and vendor files, served by the service started
 * with package.json's start:deno, render the list, a config and a schema in a real browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type RunningServer, startServer } from '../support/server.ts'
import { type ConsoleBrowser, launchConsoleBrowser } from './browser.ts'

describe('the web console served by Deno', () => {
  let server: RunningServer
  let console_: ConsoleBrowser

  beforeAll(async () => {
    server = await startServer({ runtime: 'deno' })
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
})
