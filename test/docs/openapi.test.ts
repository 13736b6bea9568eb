/**
 * The OpenAPI document at /swagger/json, read from the app exactly as the service composes it
 * (buildService), checked against the app's own route list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exampleConfig, SEED_CONFIGS } from '../../src/configs/model.ts'
import { CONSUMER_CONTRACTS } from '../../src/http/configs/consumer-contracts.ts'
import { CONFIG_CONTRACTS } from '../../src/http/configs/contracts.ts'
import { HEALTH_CONTRACTS } from '../../src/http/health.ts'
import { ROLLOUT_CONTRACTS } from '../../src/http/rollouts/contracts.ts'
import { SCHEMA_CONTRACTS } from '../../src/http/schemas/contracts.ts'
import { SCHEMA_HISTORY_CONTRACTS } from '../../src/http/schemas/history-contracts.ts'
import { buildService } from '../../src/service.ts'
import { loadSettings } from '../../src/settings.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { ROOT, tempDir } from '../support/server.ts'

// biome-ignore lint/suspicious/noExplicitAny: a parsed JSON document, walked freely by the assertions
type Json = Record<string, any>
type Service = Awaited<ReturnType<typeof buildService>>

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']
const CONFIG_BODIES: Record<string, string> = {
  'post /configs': 'Config',
  'put /configs/{dcname}': 'ConfigReplace',
  'patch /configs/{dcname}': 'ConfigMergePatch',
}
/** Served but not part of the API: the docs themselves, and Prometheus' /metrics. */
/** Not API: the metrics, the API docs themselves, and the web console (a page, hidden from the document; `/` sends on to it). */
const UNDOCUMENTED = (path: string) =>
  path === '/metrics' || path.startsWith('/swagger') || path === '/' || path === '/ui' || path.startsWith('/ui/')
const WRITES = ['post', 'put', 'patch', 'delete']
const REDOCLY = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js')
const REDOCLY_CONFIG = join(ROOT, 'test/docs/redocly.yaml')

/** Every JSON Schema object in the document, with where it is (component, parameter, body, response, header). */
function schemasOf(document: Json): [string, Json][] {
  const found: [string, Json][] = Object.entries(document.components.schemas as Json).map(([name, schema]) => [
    `#/components/schemas/${name}`,
    schema,
  ])
  for (const [path, item] of Object.entries(document.paths as Json)) {
    for (const [method, operation] of Object.entries(item as Json)) {
      const at = `${method} ${path}`
      for (const p of operation.parameters ?? []) found.push([`${at} parameter ${p.name}`, p.schema])
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {}))
        found.push([`${at} body ${type}`, (media as Json).schema])
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        for (const [type, media] of Object.entries(response.content ?? {}))
          found.push([`${at} ${status} ${type}`, (media as Json).schema])
        for (const [name, header] of Object.entries(response.headers ?? {}))
          found.push([`${at} ${status} header ${name}`, (header as Json).schema])
      }
    }
  }
  return found.filter(([, schema]) => schema !== undefined)
}

/** Every key used anywhere inside a schema, except the property names under `properties`. */
function keywordsOf(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const item of schema) keywordsOf(item, into)
  else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'examples' || key === 'example' || key === 'default' || key === 'enum' || key === 'const') {
        into.add(key)
        continue
      }
      if (key === 'properties' || key === 'patternProperties') {
        into.add(key)
        for (const sub of Object.values(value as Json)) keywordsOf(sub, into)
        continue
      }
      into.add(key)
      keywordsOf(value, into)
    }
  }
  return into
}

describe('the OpenAPI document at /swagger/json', () => {
  let service: Service
  let document: Json
  let operations: { key: string; path: string; method: string; operation: Json }[]

  beforeAll(async () => {
    const settings = loadSettings({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' })
    service = await buildService(settings, { openSqlite: openBunSqlite })
    const response = await service.app.handle(new Request('http://localhost/swagger/json'))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    document = (await response.json()) as Json
    operations = Object.entries(document.paths as Json).flatMap(([path, item]) =>
      Object.entries(item as Json)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, operation]) => ({ key: `${method} ${path}`, path, method, operation })),
    )
  })

  afterAll(async () => {
    await service?.store.close()
  })

  it('when fetched, then it is an OpenAPI 3.x document describing this service', () => {
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/)
    expect(document.info).toMatchObject({ title: 'config-service', version: expect.any(String) })
  })

  it('when compared with the app, then every route is documented with each of its methods', () => {
    const served = service.app.routes
      .filter((route) => !UNDOCUMENTED(route.path) && route.method !== 'ALL')
      .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:([^/]+)/g, '{$1}')}`)
    expect(served.length).toBeGreaterThanOrEqual(9)
    expect(operations.map((o) => o.key).sort()).toEqual([...new Set(served)].sort())
  })

  it('when compared with the app, then every documented route is registered with its own contract', () => {
    const contracts = [
      ...CONFIG_CONTRACTS,
      ...CONSUMER_CONTRACTS,
      ...SCHEMA_CONTRACTS,
      ...SCHEMA_HISTORY_CONTRACTS,
      ...ROLLOUT_CONTRACTS,
      ...HEALTH_CONTRACTS,
    ]
    const served = service.app.routes.filter((route) => !UNDOCUMENTED(route.path) && route.method !== 'ALL')
    for (const route of served) {
      const contract = contracts.find((c) => c.method === route.method && c.path === route.path)
      const registered = (route.hooks as { detail?: { operationId?: string } }).detail?.operationId
      expect({ route: `${route.method} ${route.path}`, registered }).toEqual({
        route: `${route.method} ${route.path}`,
        registered: contract?.operationId ?? 'a contract',
      })
    }
    expect(contracts.length).toBe(served.length)
  })

  it('when read, then every operation has a tag, a summary, an operationId and a success response', () => {
    const operationIds = new Set<string>()
    for (const { key, operation } of operations) {
      expect({ key, tags: operation.tags?.length ?? 0 }).toEqual({ key, tags: 1 })
      expect(operation.summary, key).toBeString()
      operationIds.add(operation.operationId)
      expect(
        Object.keys(operation.responses ?? {}).some((status) => /^2\d\d$/.test(status)),
        key,
      ).toBe(true)
    }
    expect(operationIds.size).toBe(operations.length)
  })

  it('when a route takes a config, then its request body is JSON referencing the config schemas', () => {
    for (const [key, component] of Object.entries(CONFIG_BODIES)) {
      const body = operations.find((o) => o.key === key)?.operation.requestBody
      expect(body?.required, key).toBe(true)
      expect(body?.content?.['application/json']?.schema, key).toEqual({ $ref: `#/components/schemas/${component}` })
      expect(
        Object.keys(body?.content ?? {}).every((type) => type.endsWith('json')),
        key,
      ).toBe(true)
    }
    const config = document.components.schemas.Config
    expect(config.required).toEqual(['dcname', 'metadata'])
    expect(config.additionalProperties).toBe(false)
    expect(config.properties.dcname.pattern).toBeString()
  })

  it('when a response is an error, then it is problem+json referencing the Problem schema', () => {
    let errors = 0
    for (const { key, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        if (Number(status) < 400) continue
        errors++
        expect({ key, status, types: Object.keys(response.content ?? {}) }).toEqual({
          key,
          status,
          types: ['application/problem+json'],
        })
        expect(response.content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' })
        expect(response.content['application/problem+json'].example.status).toBe(Number(status))
      }
    }
    expect(errors).toBeGreaterThan(20)
    expect(document.components.schemas.Problem.required).toEqual(['type', 'title', 'status', 'detail'])
  })

  it('when an operation can fail the way the README lists, then that status is documented', () => {
    const statuses = (key: string) => Object.keys(operations.find((o) => o.key === key)?.operation.responses ?? {})
    expect(statuses('post /configs')).toEqual(expect.arrayContaining(['201', '400', '401', '409', '413', '415']))
    expect(statuses('get /configs/{dcname}')).toEqual(expect.arrayContaining(['200', '304', '404']))
    expect(statuses('put /configs/{dcname}')).toEqual(expect.arrayContaining(['200', '201', '412']))
    expect(statuses('patch /configs/{dcname}')).toEqual(expect.arrayContaining(['200', '404', '412']))
    expect(statuses('delete /configs/{dcname}')).toEqual(expect.arrayContaining(['204', '404', '412']))
    expect(statuses('get /readyz')).toEqual(expect.arrayContaining(['200', '503']))
  })

  it('when read, then the seed configs are the examples', () => {
    const list = operations.find((o) => o.key === 'get /configs')?.operation
    expect(list?.responses['200'].content['application/json'].example).toEqual(SEED_CONFIGS)
    const get = operations.find((o) => o.key === 'get /configs/{dcname}')?.operation
    expect(get?.responses['200'].content['application/json'].example).toEqual(exampleConfig('datacenter-1'))
  })

  it('when the POST example body is sent to a fresh service, then it creates a config (201), not a 409', async () => {
    const create = operations.find((o) => o.key === 'post /configs')?.operation
    const example = create?.requestBody.content['application/json'].example
    expect(example).toEqual(exampleConfig('datacenter-3'))
    expect(SEED_CONFIGS.map((c) => c.dcname)).not.toContain(example.dcname)
    const settings = loadSettings({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' })
    const fresh = await buildService(settings, { openSqlite: openBunSqlite })
    try {
      const response = await fresh.app.handle(
        new Request('http://localhost/configs', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(example),
        }),
      )
      expect(response.status).toBe(201)
      expect(await response.json()).toEqual(example)
    } finally {
      await fresh.store.close()
    }
  })

  it('when read, then writes need the bearer token, config reads may send one, and probes say explicitly that they do not', () => {
    expect(document.components.securitySchemes).toEqual({
      bearerAuth: { type: 'http', scheme: 'bearer', description: expect.any(String) },
    })
    const { description } = document.components.securitySchemes.bearerAuth
    for (const credential of ['API_TOKEN', 'API_TOKENS_FILE', 'JWT', 'service-account', 'prefixes']) {
      expect(description).toContain(credential)
    }
    const writes = operations.filter((o) => WRITES.includes(o.method))
    expect(writes.map((o) => o.key).sort()).toEqual([
      'delete /configs/{dcname}',
      'delete /schemas/{name}',
      'patch /configs/{dcname}',
      'post /configs',
      'post /configs/{dcname}/rollback',
      'post /rollouts',
      'post /rollouts/{id}/abort',
      'post /rollouts/{id}/approve',
      'post /rollouts/{id}/pause',
      'post /rollouts/{id}/resume',
      'post /schemas/{name}/rollback',
      'put /configs/{dcname}',
      'put /configs/{dcname}/consumers/{consumer}',
      'put /schemas/{name}',
    ])
    const probe = (key: string) => key.endsWith('/healthz') || key.endsWith('/readyz')
    for (const { key, method, operation } of operations) {
      const expected = probe(key) ? [] : WRITES.includes(method) ? [{ bearerAuth: [] }] : [{}, { bearerAuth: [] }]
      expect({ key, security: operation.security }).toEqual({ key, security: expected })
      // Every route behind the gate, reads included, can meet a token nobody issued (401) and a
      // valid JWT whose subject has no role here (403); the named ones can also be outside prefixes.
      if (!probe(key)) expect(Object.keys(operation.responses), key).toEqual(expect.arrayContaining(['401', '403']))
    }
  })

  it('when read, then history, a read at a revision and rollback are documented with examples, 404 and 410', () => {
    const history = document.paths['/configs/{dcname}/history'].get
    expect(history.operationId).toBe('configHistory')
    expect(history.parameters.map((p: Json) => p.name)).toEqual(['dcname', 'limit', 'cursor'])
    expect(history.responses['200'].content['application/json'].schema).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/HistoryEntry' },
    })
    expect(history.responses['200'].content['application/json'].example[0]).toHaveProperty('actor')
    expect(history.responses['200'].headers).toHaveProperty('Link')
    expect(Object.keys(history.responses)).toContain('404')

    const get = document.paths['/configs/{dcname}'].get
    expect(get.parameters.find((p: Json) => p.name === 'revision')).toMatchObject({ in: 'query' })
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '304', '400', '404', '410']))

    const rollback = document.paths['/configs/{dcname}/rollback'].post
    expect(rollback.requestBody.content['application/json'].example).toEqual({ revision: expect.any(Number) })
    expect(Object.keys(rollback.responses)).toEqual(
      expect.arrayContaining(['200', '201', '400', '404', '410', '412', '413', '415']),
    )
    expect(rollback.responses['410'].content['application/problem+json'].example.detail).toContain('oldest kept')
    expect(rollback.parameters.map((p: Json) => p.name)).toContain('If-Match')
  })

  it('when read, then its server is the service that serves it, whatever its address', () => {
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }])
  })

  it("when read, then its schemas use only JSON Schema keywords (no Elysia `error`), while validation keeps Elysia's messages", async () => {
    const standard = new Set([
      ...['type', 'properties', 'required', 'additionalProperties', 'items', 'anyOf', 'const', 'enum', 'pattern'],
      ...['minLength', 'maxLength', 'minimum', 'maximum', 'default', 'description', 'examples', 'example', '$ref'],
      ...['patternProperties', 'format', 'minItems', 'maxItems', 'maxProperties', 'exclusiveMinimum'],
    ])
    const schemas = schemasOf(document)
    expect(schemas.length).toBeGreaterThan(40)
    for (const [at, schema] of schemas) {
      const unknown = [...keywordsOf(schema)].filter((keyword) => !standard.has(keyword))
      expect({ at, unknown }).toEqual({ at, unknown: [] })
    }
    const response = await service.app.handle(
      new Request('http://localhost/configs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dcname: 'dc-x', metadata: { monitoring: { enabled: 'yes' } } }),
      }),
    )
    expect(response.status).toBe(400)
    expect(((await response.json()) as Json).errors).toContainEqual({
      pointer: '/metadata/monitoring/enabled',
      message: 'expected true, false, "true" or "false"',
    })
  })

  it('when linted by Redocly CLI with its recommended rules, offline, then it has no errors and no warnings', async () => {
    // The document exactly as served (fetched again: matchers in the tests above may touch the
    // parsed copy), in a file: the linter reads files or URLs only.
    const served = await service.app.handle(new Request('http://localhost/swagger/json'))
    const file = join(tempDir('openapi-lint-'), 'openapi.json')
    writeFileSync(file, await served.text())
    const lint = Bun.spawn([process.execPath, REDOCLY, 'lint', file, '--config', REDOCLY_CONFIG, '--format', 'json'], {
      cwd: ROOT,
      // No usage data and no check for a newer version: the lint must not reach the network.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [out, err, code] = await Promise.all([
      new Response(lint.stdout).text(),
      new Response(lint.stderr).text(),
      lint.exited,
    ])
    const report = JSON.parse(out) as {
      totals: Json
      problems: { ruleId: string; message: string; location: Json[] }[]
    }
    const problems = report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)
    expect({ problems, totals: report.totals }).toEqual({
      problems: [],
      totals: { errors: 0, warnings: 0, ignored: 0 },
    })
    expect({ code, err }).toEqual({ code: 0, err: expect.stringContaining('valid') })
  }, 30_000)

  it('when an API operation is read, then it documents at least one 4xx (the probes answer only 200 or 503)', () => {
    for (const { key, path, operation } of operations) {
      if (path === '/healthz' || path === '/readyz') continue
      expect({ key, has4xx: Object.keys(operation.responses).some((s) => /^4\d\d$/.test(s)) }).toEqual({
        key,
        has4xx: true,
      })
    }
  })

  it('when read, then every $ref points at a schema the document defines', () => {
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? []
    expect(refs.length).toBeGreaterThan(10)
    for (const ref of new Set(refs)) {
      const name = /#\/components\/schemas\/(.+)"$/.exec(ref)?.[1]
      expect({ ref, defined: name !== undefined && name in document.components.schemas }).toEqual({
        ref,
        defined: true,
      })
    }
  })

  it('when read, then the probes are tagged operations and /metrics is left out', () => {
    expect(document.paths['/healthz'].get.tags).toEqual(['operations'])
    expect(document.paths['/readyz'].get.tags).toEqual(['operations'])
    expect(document.paths['/metrics']).toBeUndefined()
  })
})

describe('the Swagger UI page and its assets', () => {
  let service: Service

  beforeAll(async () => {
    const settings = loadSettings({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' })
    service = await buildService(settings, { openSqlite: openBunSqlite })
  })

  afterAll(async () => {
    await service?.store.close()
  })

  it('when /swagger/ (trailing slash) is asked for, then it redirects to /swagger, whose page finds the document', async () => {
    const slash = await service.app.handle(new Request('http://localhost/swagger/'))
    expect(slash.status).toBe(308)
    expect(slash.headers.get('location')).toBe('/swagger')
    const page = await (await service.app.handle(new Request('http://localhost/swagger'))).text()
    // The page starts Swagger UI from a script file; relative to /swagger, its document URL must be the document.
    const starter = /<script src="([^"]*initializer[^"]*)"/.exec(page)?.[1] ?? ''
    const script = await (await service.app.handle(new Request(new URL(starter, 'http://localhost/swagger')))).text()
    const url = /"url":"([^"]+)"/.exec(script)?.[1]
    expect(new URL(url ?? '', 'http://localhost/swagger').pathname).toBe('/swagger/json')
  })

  it('when the document is asked for as /swagger/json/, then it is the same completed document', async () => {
    const [plain, slash] = await Promise.all(
      ['/swagger/json', '/swagger/json/'].map(async (path) =>
        (await service.app.handle(new Request(`http://localhost${path}`))).json(),
      ),
    )
    expect((slash as Json).components.securitySchemes).toBeDefined()
    expect(slash).toEqual(plain)
  })

  it('when the UI script and stylesheet are fetched, then they are the swagger-ui-dist files, served here', async () => {
    const assets: [string, string][] = [
      ['swagger-ui-bundle.js', 'text/javascript'],
      ['swagger-ui.css', 'text/css'],
    ]
    for (const [name, type] of assets) {
      const file = readFileSync(join(ROOT, 'node_modules/swagger-ui-dist', name), 'utf8')
      // Read on first request and kept: the first answers (at once) and a later one are whole.
      const fetchIt = () => service.app.handle(new Request(`http://localhost/swagger/assets/${name}`))
      for (const response of [...(await Promise.all([fetchIt(), fetchIt()])), await fetchIt()]) {
        expect(response.status).toBe(200)
        expect(response.headers.get('content-type')).toStartWith(type)
        expect(await response.text()).toBe(file)
      }
    }
  })
})
