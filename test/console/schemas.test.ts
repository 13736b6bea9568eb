/**
 * The console's schema pages and a config's edit form under a schema, in a real browser against
 * the real service (a child process on a SQLite file with named tokens: an admin, and a writer
 * limited to `payments-`), every other origin blocked: the schema list reached from the header,
 * create, a mode switch refused for its violators and then forced, dry runs, a schema the service
 * cannot use, a stale If-Match, a 403, delete, the current violators; a config's 422 field errors
 * at their lines (save and dry run), its schema's enums and defaults written into the JSON;
 * accessibility and screenshots at 1400 and 400 px.
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

const SECRETS = { writer: 'writer-token-5d2e7a', admin: 'admin-token-9c4f1b' }
const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex')
const TOKENS_FILE = `
tokens:
  - { name: team-writer, sha256: ${sha256(SECRETS.writer)}, role: writer, prefixes: [payments-] }
  - { name: ops-admin, sha256: ${sha256(SECRETS.admin)}, role: admin }
`

/** An integer `replicas` (1 to 50, default 2), a `tier` from a local `$ref`'s enum, a `region` with a default. */
const SHOP_SCHEMA = {
  type: 'object',
  required: ['replicas'],
  properties: {
    replicas: { type: 'integer', minimum: 1, maximum: 50, default: 2 },
    tier: { $ref: '#/$defs/tier' },
    region: { type: 'string', default: 'eu' },
  },
  $defs: { tier: { enum: ['gold', 'silver'] } },
}

let server: RunningServer
let console_: ConsoleBrowser
const shots = tempDir('console-schema-screenshots-')

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.admin}`, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined, etag: response.headers.get('etag') }
}

async function putConfig(dcname: string, metadata: Record<string, unknown>) {
  const reply = await call('PUT', `/configs/${dcname}`, { metadata })
  if (reply.status >= 300) throw new Error(`PUT ${dcname}: ${reply.status} ${JSON.stringify(reply.json)}`)
}

async function putSchema(name: string, prefix: string, schema: object, mode = 'enforce') {
  const reply = await call('PUT', `/schemas/${name}`, { prefix, mode, schema })
  if (reply.status >= 300) throw new Error(`PUT schema ${name}: ${reply.status} ${JSON.stringify(reply.json)}`)
  return reply.json.revision as number
}

function banners(page: Page) {
  return page.locator('main .error[role="alert"]')
}

async function fillJson(page: Page, id: string, value: unknown) {
  await page.locator(`#${id}`).fill(JSON.stringify(value, null, 2))
}

/** The data-line of every marked line of an editor, and the inline message of each. */
async function markedLines(page: Page): Promise<[string, string][]> {
  return page
    .locator('.editor-line.bad')
    .evaluateAll((lines) =>
      lines.map((line) => [
        line.getAttribute('data-line') ?? '',
        [...line.querySelectorAll('.inline-error')].map((e) => e.textContent).join(' | '),
      ]),
    )
}

describe('the web console: config schemas', () => {
  beforeAll(async () => {
    const file = join(tempDir('console-schema-tokens-'), 'tokens.yaml')
    writeFileSync(file, TOKENS_FILE)
    server = await startServer({ env: { API_TOKENS_FILE: file } })
    console_ = await launchConsoleBrowser(server.url)
  }, 60_000)

  afterAll(async () => {
    await console_?.close()
    await server?.stop()
  })

  it('when a schema is created from the Schemas page, then it is stored and listed with its name, prefix, mode and revision', async () => {
    const page = await console_.open('/ui', { token: SECRETS.admin })
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Schemas' }).click()
    await page.waitForURL((url) => url.pathname === '/ui/schemas')
    await page.locator('h1', { hasText: 'Schemas' }).waitFor()
    await page.getByRole('button', { name: 'New schema' }).click()
    await page.getByLabel('Name', { exact: true }).fill('orders')
    await page.getByLabel(/^Prefix/).fill('orders-')
    await fillJson(page, 'schema-json', SHOP_SCHEMA)
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT'),
      page.getByRole('button', { name: 'Create' }).click(),
    ])
    expect(request.headers()['if-none-match']).toBe('*')
    await page.waitForURL((url) => url.pathname === '/ui/schemas/orders')
    await page.locator('h1', { hasText: 'Schema orders' }).waitFor()
    const stored = await call('GET', '/schemas/orders')
    expect(stored.json).toEqual({
      name: 'orders',
      prefix: 'orders-',
      mode: 'enforce',
      schema: SHOP_SCHEMA,
      revision: stored.json.revision,
    })
    expect(await page.locator('.revision').getAttribute('data-revision')).toBe(String(stored.json.revision))

    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Schemas' }).click()
    const row = page.locator('tr[data-schema="orders"]')
    await row.waitFor()
    expect(await row.locator('th, td').allTextContents()).toEqual([
      'orders',
      'orders-',
      'enforce',
      String(stored.json.revision),
    ])
    expect(await page.getByRole('link', { name: 'Schemas', exact: true }).first().getAttribute('aria-current')).toBe(
      'page',
    )
  }, 60_000)

  it('when a switch to enforce is refused for its violators, then they are listed, and "force" stores it and lists them as current violators', async () => {
    await putConfig('payments-ok', { replicas: 3 })
    await putConfig('payments-big', { replicas: 99 })
    const revision = await putSchema('payments', 'payments-', SHOP_SCHEMA, 'warn')
    const page = await console_.open('/ui/schemas/payments', { token: SECRETS.admin })
    await page.locator('table.violators tr[data-dcname="payments-big"]').waitFor()
    await page.getByRole('radio', { name: /Enforce/ }).check()
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    const refusal = page.locator('section.conflict', { hasText: 'Not saved: 1 config breaks it' })
    await refusal.waitFor()
    expect(
      await refusal.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-dcname'))),
    ).toEqual(['payments-big'])
    expect(await refusal.locator('tbody td').textContent()).toContain('/metadata/replicas must be <= 50 (maximum)')
    expect((await call('GET', '/schemas/payments')).json.mode).toBe('warn')

    const [forced] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT'),
      refusal.getByRole('button', { name: 'Save anyway (force)' }).click(),
    ])
    expect(new URL(forced.url()).searchParams.get('force')).toBe('true')
    expect(forced.headers()['if-match']).toBe(`"${revision}"`)
    await page.locator('.notice', { hasText: 'Saved: schema payments is now at revision' }).waitFor()
    const stored = await call('GET', '/schemas/payments')
    expect(stored.json.mode).toBe('enforce')
    await page.locator(`.revision[data-revision="${stored.json.revision}"]`).waitFor()
    const current = page.locator('section', { has: page.locator('#violations-title') })
    await current.locator('caption', { hasText: '1 config breaks it now' }).waitFor()
    expect(await current.locator('tbody tr').getAttribute('data-dcname')).toBe('payments-big')
    await screenshot(page, shots, 'schema-1400')
  }, 60_000)

  it('when Dry run is pressed on a schema, then the service checks it (?dryRun=true), the page says it would pass, and nothing is stored', async () => {
    const revision = await putSchema('dry', 'dry-', SHOP_SCHEMA)
    const page = await console_.open('/ui/schemas/dry', { token: SECRETS.admin })
    await fillJson(page, 'schema-json', { ...SHOP_SCHEMA, description: 'changed' })
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT'),
      page.getByRole('button', { name: 'Dry run' }).click(),
    ])
    expect(new URL(request.url()).searchParams.get('dryRun')).toBe('true')
    await page.locator('.notice', { hasText: 'Dry run passed' }).waitFor()
    expect(await call('GET', '/schemas/dry')).toMatchObject({ json: { revision, schema: SHOP_SCHEMA } })
  }, 60_000)

  it('when a schema the service cannot use is saved, then the banner gives its problem detail and nothing is stored', async () => {
    const revision = await putSchema('remote', 'remote-', SHOP_SCHEMA)
    const bad = { $ref: 'https://example.com/schema.json' }
    const expected = await call('PUT', '/schemas/remote?dryRun=true', {
      prefix: 'remote-',
      mode: 'enforce',
      schema: bad,
    })
    expect(expected.status).toBe(422)
    const page = await console_.open('/ui/schemas/remote', { token: SECRETS.admin })
    await fillJson(page, 'schema-json', bad)
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await banners(page).first().waitFor()
    expect(await banners(page).allTextContents()).toEqual([`422 ${expected.json.title}: ${expected.json.detail}`])
    expect((await call('GET', '/schemas/remote')).json.revision).toBe(revision)
    expect(console_.offOrigin).toEqual([])
  }, 60_000)

  it('when the schema JSON does not parse, then the error is shown at its line and nothing is sent', async () => {
    await putSchema('typo', 'typo-', SHOP_SCHEMA)
    const page = await console_.open('/ui/schemas/typo', { token: SECRETS.admin })
    const sent: string[] = []
    page.on('request', (r) => void (r.method() === 'PUT' && sent.push(r.url())))
    await page.locator('#schema-json').fill('{\n  "type": "object",\n  "properties": {\n}')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.locator('.error-summary').waitFor()
    expect((await markedLines(page)).length).toBe(1)
    expect(await page.locator('.error-summary').textContent()).toContain('not valid JSON')
    expect(sent).toEqual([])
  }, 60_000)

  it('when the schema changed since the page read it, then the save is refused (412), said so, and the newest revision is shown', async () => {
    await putSchema('stale', 'stale-', SHOP_SCHEMA)
    const page = await console_.open('/ui/schemas/stale', { token: SECRETS.admin })
    await page.locator('.revision').waitFor()
    const newer = await putSchema('stale', 'stale-', { ...SHOP_SCHEMA, title: 'newer' })
    await page.getByRole('radio', { name: /Warn/ }).check()
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await banners(page).filter({ hasText: '412' }).waitFor()
    expect(await banners(page).textContent()).toContain('The schema changed since this page read it')
    await page.locator(`.revision[data-revision="${newer}"]`).waitFor()
    expect((await call('GET', '/schemas/stale')).json).toMatchObject({ mode: 'enforce', revision: newer })
  }, 60_000)

  it('when a writer creates a schema outside its prefixes, then the banner gives the 403 with the service detail', async () => {
    const page = await console_.open('/ui/schemas', { token: SECRETS.writer })
    await page.getByRole('button', { name: 'New schema' }).click()
    await page.getByLabel('Name', { exact: true }).fill('elsewhere')
    await page.getByLabel(/^Prefix/).fill('other-')
    await page.getByRole('button', { name: 'Create' }).click()
    await banners(page).first().waitFor()
    const [text] = await banners(page).allTextContents()
    expect(text).toStartWith('403 Forbidden: team-writer')
    expect(text).toContain('other-')
    expect((await call('GET', '/schemas/elsewhere')).status).toBe(404)
  }, 60_000)

  it('when a schema page names none, then it says so (no blank page)', async () => {
    const page = await console_.open('/ui/schemas/nothing-here', { token: SECRETS.admin })
    await page.getByText('There is no schema named').waitFor()
    expect(await page.locator('h1').textContent()).toBe('Schema nothing-here')
  }, 60_000)

  it('when Delete is confirmed, then the schema is deleted with If-Match and the page says it is gone', async () => {
    const revision = await putSchema('gone', 'gone-', SHOP_SCHEMA)
    const page = await console_.open('/ui/schemas/gone', { token: SECRETS.admin })
    await page.getByRole('button', { name: 'Delete' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete schema gone?' })
    await dialog.waitFor()
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'DELETE'),
      dialog.getByRole('button', { name: 'Delete' }).click(),
    ])
    expect(request.headers()['if-match']).toBe(`"${revision}"`)
    await page.getByText('There is no schema named').waitFor()
    expect((await call('GET', '/schemas/gone')).status).toBe(404)
  }, 60_000)

  it('when a config edit breaks its schema, then each 422 error is shown at its line, on save and on dry run, and nothing is stored', async () => {
    await putSchema('shop', 'shop-', SHOP_SCHEMA)
    await putConfig('shop-1', { replicas: 3 })
    const before = await call('GET', '/configs/shop-1')
    const page = await console_.open('/ui/configs/shop-1', { token: SECRETS.admin })
    await page.getByRole('button', { name: 'Edit' }).click()
    await fillJson(page, 'config-json', { dcname: 'shop-1', metadata: { replicas: 99, tier: 'bronze' } })
    await page.getByRole('button', { name: 'Save' }).click()
    await page.locator('.error-summary').waitFor()
    // Lines of the pretty-printed body: 4 is "replicas": 99, 5 is "tier": "bronze".
    expect(await markedLines(page)).toEqual([
      ['4', 'must be <= 50'],
      ['5', 'must be equal to one of the allowed values'],
    ])
    expect(await page.locator('.error-summary').textContent()).toContain('/metadata/tier')
    expect(await banners(page).textContent()).toContain('422')

    await fillJson(page, 'config-json', { dcname: 'shop-1', metadata: {} })
    const [dry] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT'),
      page.getByRole('button', { name: 'Dry run' }).click(),
    ])
    expect(new URL(dry.url()).searchParams.get('dryRun')).toBe('true')
    // A missing property is shown at the object that lacks it: line 3, "metadata": {}.
    await page.locator('.editor-line.bad[data-line="3"]').waitFor()
    expect(await page.locator('.error-summary').textContent()).toContain('/metadata/replicas')
    expect(await call('GET', '/configs/shop-1')).toEqual(before)

    await fillJson(page, 'config-json', { dcname: 'shop-1', metadata: { replicas: 4 } })
    await page.getByRole('button', { name: 'Dry run' }).click()
    await page.locator('.notice', { hasText: 'Dry run passed' }).waitFor()
    expect(await page.locator('.editor-line.bad').count()).toBe(0)
    expect(await call('GET', '/configs/shop-1')).toEqual(before)
  }, 60_000)

  it("when a config's schema has enums and defaults, then the edit form offers them and writes the chosen ones into the JSON", async () => {
    await putSchema('web', 'web-', SHOP_SCHEMA)
    await putConfig('web-1', { replicas: 3 })
    const page = await console_.open('/ui/configs/web-1', { token: SECRETS.admin })
    await page.getByRole('button', { name: 'Edit' }).click()
    const hints = page.locator('section.schema-hints')
    await hints.getByRole('heading', { name: /Schema web governs this config/ }).waitFor()
    await hints.getByRole('combobox', { name: '/metadata/tier' }).selectOption('"silver"')
    await hints
      .locator('li[data-pointer="/metadata/region"]')
      .getByRole('button', { name: 'Insert the default' })
      .click()
    expect(JSON.parse(await page.locator('#config-json').inputValue())).toEqual({
      dcname: 'web-1',
      metadata: { replicas: 3, tier: 'silver', region: 'eu' },
    })
    expect(await hints.getByRole('button', { name: 'Insert the default' }).count()).toBe(0)
    await page.getByRole('button', { name: 'Save' }).click()
    await page.locator('.notice', { hasText: 'Saved' }).waitFor()
    expect((await call('GET', '/configs/web-1')).json.metadata).toEqual({ replicas: 3, tier: 'silver', region: 'eu' })
  }, 60_000)

  it('when a new config is typed under a schema prefix, then its missing defaults can be inserted at once before Create', async () => {
    await putSchema('api', 'api-', SHOP_SCHEMA)
    const page = await console_.open('/ui', { token: SECRETS.admin })
    await page.getByRole('button', { name: 'New config' }).click()
    await fillJson(page, 'config-json', { dcname: 'api-1', metadata: {} })
    await page.getByRole('button', { name: 'Insert the 2 missing defaults' }).click()
    await page.getByRole('button', { name: 'Create' }).click()
    await page.waitForURL((url) => url.pathname === '/ui/configs/api-1')
    expect((await call('GET', '/configs/api-1')).json.metadata).toEqual({ replicas: 2, region: 'eu' })
  }, 60_000)

  for (const [width, label] of [
    [WIDE, '1400'],
    [NARROW, '400'],
  ] as const) {
    it(`when the schema list and a schema with violators are shown ${label} px wide, then axe finds nothing serious and nothing overflows`, async () => {
      await putSchema(`axe-${label}`, `axe${label}-`, SHOP_SCHEMA, 'warn')
      await putConfig(`axe${label}-1`, { replicas: 0 })
      const list = await console_.open('/ui/schemas', { width, token: SECRETS.admin })
      await list.locator(`tr[data-schema="axe-${label}"]`).waitFor()
      expect(await seriousViolations(list)).toEqual([])
      expect(await overflowsSideways(list)).toBe(false)
      await screenshot(list, shots, `schemas-${label}`)

      const one = await console_.open(`/ui/schemas/axe-${label}`, { width, token: SECRETS.admin })
      await one.locator('table.violators tbody tr').waitFor()
      expect(await seriousViolations(one)).toEqual([])
      expect(await overflowsSideways(one)).toBe(false)
      await screenshot(one, shots, `schema-page-${label}`)
    }, 90_000)

    it(`when a config's edit under a warn schema is dry-run ${label} px wide, then the warning is shown, axe finds nothing serious and nothing overflows`, async () => {
      await putSchema(`hint-${label}`, `hint${label}-`, SHOP_SCHEMA, 'warn')
      await putConfig(`hint${label}-1`, { replicas: 0 })
      const edit = await console_.open(`/ui/configs/hint${label}-1`, { width, token: SECRETS.admin })
      await edit.getByRole('button', { name: 'Edit' }).click()
      await edit.locator('section.schema-hints li').first().waitFor()
      await edit.getByRole('button', { name: 'Dry run' }).click()
      const notice = edit.locator('.notice', { hasText: 'Dry run passed' })
      await notice.waitFor()
      expect(await notice.textContent()).toContain(`Warning: schema "hint-${label}": /metadata/replicas (minimum).`)
      expect(await seriousViolations(edit)).toEqual([])
      expect(await overflowsSideways(edit)).toBe(false)
      await screenshot(edit, shots, `schema-hints-${label}`)
    }, 90_000)
  }

  it('when every flow above ran, then the console needed nothing from another origin', () => {
    expect(console_.requested.length).toBeGreaterThan(0)
    expect(console_.offOrigin).toEqual([])
  })
})
