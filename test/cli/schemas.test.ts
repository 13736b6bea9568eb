/**
 * configctl's schema commands and `validate` (dist/configctl, as a process, against a real
 * service process): schema apply/get/list/delete, apply --dry-run=server checked by the
 * service's schemas, and validate -f checking a folder offline against the fetched schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
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
  configFolder({
    [`${name}.schema.yaml`]: `name: ${name}\nprefix: ${name}-\nmode: ${mode}\nschema:\n  type: object\n  properties:\n    replicas: {type: integer, minimum: 1, maximum: 50}\n  required: [replicas]\n`,
  }) + `/${name}.schema.yaml`

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
