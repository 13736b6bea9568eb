/**
 * configctl's schema commands and `validate` (dist/configctl, as a process, against a real
 * service process): schema apply/get/list/delete, apply --dry-run=server checked by the
 * service's schemas, and validate -f checking a folder offline against the fetched schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createClient } from '../../src/client/index.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { api, buildConfigctl, configctl, configFolder } from './support.ts'

let server: RunningServer
let url: string

beforeAll(async () => {
  ;[server] = await Promise.all([startServer({ env: { SEED: 'false' } }), buildConfigctl()])
  url = server.url
}, 60_000)
afterAll(async () => {
  await server.stop()
})

/** A schema file for `<name>-` configs: an integer `replicas` between 1 and 50. */
const schemaFile = (name: string, mode = 'enforce') =>
  `${configFolder({
    [`${name}.schema.yaml`]: `name: ${name}\nprefix: ${name}-\nmode: ${mode}\nschema:\n  type: object\n  properties:\n    replicas: {type: integer, minimum: 1, maximum: 50}\n  required: [replicas]\n`,
  })}/${name}.schema.yaml`

describe('configctl schema', () => {
  it('when a schema file is applied, then the service holds it and get prints it', async () => {
    const applied = await configctl(url, ['schema', 'apply', '-f', schemaFile('sa')])
    expect(applied).toEqual({ code: 0, stdout: 'schema/sa created\n', stderr: '' })
    const got = await configctl(url, ['schema', 'get', 'sa', '-o', 'json'])
    expect(JSON.parse(got.stdout)).toMatchObject({ name: 'sa', prefix: 'sa-', mode: 'enforce' })
  })

  it('when schemas are listed, then the table has one row per schema', async () => {
    await configctl(url, ['schema', 'apply', '-f', schemaFile('sl')])
    const listed = await configctl(url, ['schema', 'list'])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^sl\s+"sl-"\s+enforce\s+\d+\s*$/m)
  })

  it('when a schema is applied with --dry-run=server, then nothing is stored', async () => {
    const applied = await configctl(url, ['schema', 'apply', '-f', schemaFile('sd'), '--dry-run=server'])
    expect(applied.stdout).toBe('schema/sd created (server dry run)\n')
    expect((await api(url, '/schemas/sd')).status).toBe(404)
  })

  it('when a schema is deleted, then the service no longer has it', async () => {
    await configctl(url, ['schema', 'apply', '-f', schemaFile('sx')])
    expect((await configctl(url, ['schema', 'delete', 'sx'])).code).toBe(0)
    expect((await api(url, '/schemas/sx')).status).toBe(404)
  })

  it('when the schema file is not a schema, then it is a usage error naming the file', async () => {
    const dir = configFolder({ 'bad.yaml': 'name: Bad Name\nprefix: 3\n' })
    const run = await configctl(url, ['schema', 'apply', '-f', `${dir}/bad.yaml`])
    expect(run.code).toBe(2)
    expect(run.stderr).toStartWith(`error: ${dir}/bad.yaml: not a schema file`)
  })
})

describe('configctl apply --dry-run=server and validate', () => {
  it('when a config breaks its schema, then apply --dry-run=server reports the 422 and stores nothing', async () => {
    await configctl(url, ['schema', 'apply', '-f', schemaFile('ad')])
    const dir = configFolder({ 'ad-1.yaml': 'dcname: ad-1\nmetadata:\n  replicas: 0\n' })
    const run = await configctl(url, ['apply', '-f', dir, '--dry-run=server'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('/metadata/replicas')
    expect((await api(url, '/configs/ad-1')).status).toBe(404)
  })

  it('when a valid config is applied with --dry-run=server, then it says created and stores nothing', async () => {
    await configctl(url, ['schema', 'apply', '-f', schemaFile('av')])
    const dir = configFolder({ 'av-1.yaml': 'dcname: av-1\nmetadata:\n  replicas: 3\n' })
    const run = await configctl(url, ['apply', '-f', dir, '--dry-run=server'])
    expect(run.stdout).toBe(
      'config/av-1 created (server dry run)\n1 config: 1 created, 0 configured, 0 unchanged (server dry run)\n',
    )
    expect((await api(url, '/configs/av-1')).status).toBe(404)
  })

  it('when a folder holds a config its enforce schema refuses, then validate names it and exits 1', async () => {
    await configctl(url, ['schema', 'apply', '-f', schemaFile('va')])
    const dir = configFolder({
      'va-1.yaml': 'dcname: va-1\nmetadata:\n  replicas: 3\n',
      'va-2.yaml': 'dcname: va-2\nmetadata:\n  replicas: 99\n',
    })
    const run = await configctl(url, ['validate', '-f', dir])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('config/va-1 valid (schema/va)\n2 configs: 1 refused by their schema\n')
    expect(run.stderr).toBe(`error: ${dir}/va-2.yaml: config/va-2: /metadata/replicas: must be <= 50 (maximum)\n`)
  })
})

describe('configctl schema history and rollback', () => {
  /** `<name>` applied as enforce, then as warn: the revisions of both writes. */
  const twice = async (name: string) => {
    await configctl(url, ['schema', 'apply', '-f', schemaFile(name)])
    const first = Number((await api(url, `/schemas/${name}`)).headers.get('etag')?.replaceAll('"', ''))
    await configctl(url, ['schema', 'apply', '-f', schemaFile(name, 'warn')])
    const second = Number((await api(url, `/schemas/${name}`)).headers.get('etag')?.replaceAll('"', ''))
    return { first, second }
  }

  it('when history is asked, then -o json prints the API answer and the table one row per write, newest first', async () => {
    const { first, second } = await twice('sh')
    const json = await configctl(url, ['schema', 'history', 'sh', '-o', 'json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse((await api(url, '/schemas/sh/history')).text))
    const table = await configctl(url, ['schema', 'history', 'sh'])
    const rows = table.stdout.trimEnd().split('\n').slice(1)
    expect(rows.map((line) => line.split(/\s+/).slice(0, 3))).toEqual([
      [String(second), 'MODIFIED', '-'],
      [String(first), 'ADDED', '-'],
    ])
  })

  it('when a schema is rolled back --to-revision, then that state is stored again and said so', async () => {
    const { first } = await twice('sr')
    const run = await configctl(url, ['schema', 'rollback', 'sr', '--to-revision', String(first)])
    expect(run.code, run.stderr).toBe(0)
    const now = await api(url, '/schemas/sr')
    const revision = now.headers.get('etag')?.replaceAll('"', '')
    expect(run.stdout).toBe(`schema/sr rolled back to revision ${first} (now revision ${revision})\n`)
    expect(JSON.parse(now.text).mode).toBe('enforce')
  })

  it('when a rollback names a revision where the schema did not exist, then it fails with the problem and exit 1', async () => {
    const { first } = await twice('sn')
    const run = await configctl(url, ['schema', 'rollback', 'sn', '--to-revision', String(first - 1)])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`did not exist at revision ${first - 1}`)
    const bad = await configctl(url, ['schema', 'rollback', 'sn', '--to-revision', 'x'])
    expect(bad.code).toBe(2)
  })

  it('when the typed client watches schemas from a revision, then it yields the writes after it', async () => {
    const { first, second } = await twice('sw')
    const client = createClient({ url })
    const abort = new AbortController()
    const seen: { type: string; revision: number }[] = []
    for await (const event of client.schemas.watch({ since: first - 1, signal: abort.signal })) {
      if (event.schema.name !== 'sw') continue
      seen.push({ type: event.type, revision: event.revision })
      if (seen.length === 2) break
    }
    abort.abort()
    expect(seen).toEqual([
      { type: 'ADDED', revision: first },
      { type: 'MODIFIED', revision: second },
    ])
    expect((await client.schemas.get('sw', { revision: first })).mode).toBe('enforce')
  })
})
