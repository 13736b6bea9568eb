/**
 * What config schemas cost, in process: `bun bench/schema-check.ts`.
 *
 * 1. CPU per PUT through the app (app.handle, SQLite in memory, metrics and access log on, as
 *    handle-cpu.ts builds it) of one config governed by a 30-property schema, against the same
 *    PUT in an app with no schema; rounds alternate the two apps.
 * 2. The check alone (SchemaValidators.check of the same metadata, compiled and cached).
 * 3. Changing an enforce schema over 10,000 configs it governs (every one checked under the
 *    write lock): wall time of the PUT /schemas, on a real SQLite file.
 * Environment: SCHEMA_ROUNDS (default 8), SCHEMA_REQUESTS per round (default 5000).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { SchemaValidators } from '../src/configs/schema-validator.ts'
import { buildService } from '../src/service.ts'
import { loadSettings } from '../src/settings.ts'
import { openBunSqlite } from '../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../test/support/server.ts'
import { median } from './report.ts'

const rounds = Number(process.env.SCHEMA_ROUNDS ?? 8)
const requests = Number(process.env.SCHEMA_REQUESTS ?? 5000)
const PROPERTIES = 30

/** 30 typed properties: integers with bounds, strings with patterns and enums, booleans, a format. */
const properties: Record<string, unknown> = {}
const metadata: Record<string, unknown> = {}
for (let i = 0; i < PROPERTIES; i++) {
  const kind = i % 4
  properties[`p${i}`] =
    kind === 0
      ? { type: 'integer', minimum: 0, maximum: 1000 }
      : kind === 1
        ? { type: 'string', pattern: '^[a-z]+-[0-9]+$', maxLength: 64 }
        : kind === 2
          ? { type: 'string', enum: ['gold', 'silver', 'bronze'] }
          : { type: 'boolean' }
  metadata[`p${i}`] = kind === 0 ? i * 7 : kind === 1 ? `team-${i}` : kind === 2 ? 'gold' : i % 2 === 0
}
properties.p29 = { type: 'string', format: 'email' }
metadata.p29 = 'owner@example.com'
const SCHEMA = { type: 'object', properties, required: Object.keys(properties), additionalProperties: false }
const BODY = JSON.stringify({ metadata })

interface App {
  handle(request: Request): Promise<Response>
}

async function build(withSchema: boolean): Promise<App> {
  const service = await buildService(
    loadSettings({ DATABASE_URL: 'sqlite::memory:', SEED: 'false', LOG_LEVEL: 'info' }),
    { openSqlite: openBunSqlite },
    { logSink: { write() {}, flush: (done?: () => void) => done?.() } },
  )
  const app = service.app as App
  if (withSchema) {
    const body = JSON.stringify({ prefix: 'dc-', mode: 'enforce', schema: SCHEMA })
    const put = new Request('http://localhost/schemas/dc', { method: 'PUT', body, headers: JSON_TYPE })
    const response = await app.handle(put)
    if (response.status !== 201) throw new Error(`PUT /schemas/dc: ${response.status} ${await response.text()}`)
  }
  return app
}

const JSON_TYPE = { 'content-type': 'application/json' }

/** Microseconds of CPU per PUT. */
async function measure(app: App, count: number): Promise<number> {
  Bun.gc(true)
  const before = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    const request = new Request('http://localhost/configs/dc-1', { method: 'PUT', headers: JSON_TYPE, body: BODY })
    const response = await app.handle(request)
    if (response.status !== 200 && response.status !== 201) throw new Error(`PUT answered ${response.status}`)
    await response.arrayBuffer()
  }
  const used = process.cpuUsage(before)
  return (used.user + used.system) / count
}

const apps = { none: await build(false), schema: await build(true) }
for (const app of Object.values(apps)) await measure(app, requests) // warm-up
const cost = { none: [] as number[], schema: [] as number[] }
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? (['none', 'schema'] as const) : (['schema', 'none'] as const)
  for (const which of order) cost[which].push(await measure(apps[which], requests))
}
const overheads = cost.schema.map((value, i) => value - (cost.none[i] as number))
console.log(
  `PUT, no schema: ${median(cost.none).toFixed(1)} us CPU; with a ${PROPERTIES}-property schema: ${median(cost.schema).toFixed(1)} us`,
)
console.log(
  `overhead per PUT (median of rounds): ${median(overheads).toFixed(1)} us; per round: ${overheads.map((o) => o.toFixed(1)).join(' ')}`,
)

// The check alone: compiled once, then cached by revision.
const validators = new SchemaValidators()
const row = { name: 'dc', prefix: 'dc-', mode: 'enforce' as const, source: JSON.stringify(SCHEMA), revision: 1 }
const config = { dcname: 'dc-1', metadata }
validators.check(config, row)
const checks = 200_000
const started = process.cpuUsage()
for (let i = 0; i < checks; i++) validators.check(config, row)
const used = process.cpuUsage(started)
console.log(`check alone: ${(((used.user + used.system) / checks) * 1000).toFixed(0)} ns`)

// Changing a schema over 10,000 governed configs.
const dir = tempDir('schema-bench-')
const store = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
const meta = { actor: 'bench', requestId: '' }
const writes: Promise<unknown>[] = []
for (let i = 0; i < 10_000; i++)
  writes.push(store.create({ dcname: `dc-${String(i).padStart(6, '0')}`, metadata }, meta))
await Promise.all(writes)
const times: number[] = []
for (let i = 0; i < 5; i++) {
  const schema = { ...SCHEMA, description: `version ${i}` }
  const start = performance.now()
  await store.schemas.put({ name: 'dc', prefix: 'dc-', mode: 'enforce', schema }, {}, meta, {})
  times.push(performance.now() - start)
}
console.log(
  `schema change over 10,000 configs: ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${median(times).toFixed(0)})`,
)
await store.close()
rmSync(dir, { recursive: true, force: true })
process.exit(0)
