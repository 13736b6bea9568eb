/**
 * The OpenAPI document at /swagger/json, read from the app exactly as the service composes it
 * (buildService), checked against the app's own route list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { exampleConfig, SEED_CONFIGS } from '../../src/configs/model.ts'
import { buildService } from '../../src/service.ts'
import { loadSettings } from '../../src/settings.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { ROOT } from '../support/server.ts'

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
const UNDOCUMENTED = (path: string) => path === '/metrics' || path.startsWith('/swagger')

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
    const create = operations.find((o) => o.key === 'post /configs')?.operation
    expect(create?.requestBody.content['application/json'].example).toEqual(exampleConfig('datacenter-1'))
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

  it('when the UI script and stylesheet are fetched, then they are the swagger-ui-dist files, served here', async () => {
    const assets: [string, string][] = [
      ['swagger-ui-bundle.js', 'text/javascript'],
      ['swagger-ui.css', 'text/css'],
    ]
    for (const [name, type] of assets) {
      const response = await service.app.handle(new Request(`http://localhost/swagger/assets/${name}`))
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toStartWith(type)
      expect(await response.text()).toBe(readFileSync(join(ROOT, 'node_modules/swagger-ui-dist', name), 'utf8'))
    }
  })
})
