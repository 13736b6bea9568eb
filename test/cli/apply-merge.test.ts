/**
 * apply's three-way merge (dist/configctl, as a process, against a real service process): keys
 * removed from a file since its last apply are removed, keys set elsewhere stay, --force
 * replaces, diff shows exactly what apply writes, and a change in between is refused (412).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { api, buildConfigctl, configctl, configFolder, writeFiles } from './support.ts'

let server: RunningServer
let url: string

beforeAll(async () => {
  ;[server] = await Promise.all([startServer({ env: { SEED: 'false' } }), buildConfigctl()])
  url = server.url
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const stored = async (name: string) => JSON.parse((await api(url, `/configs/${name}`)).text)
const revisionOf = async (name: string) =>
  Number((await api(url, `/configs/${name}`)).headers.get('etag')?.replaceAll('"', ''))
const patchOnServer = (name: string, metadata: Record<string, unknown>) =>
  api(url, `/configs/${name}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ metadata }),
  })

/** Each test its own state dir: the records of one never meet another's. */
function withState() {
  const env = { CONFIGCTL_STATE_DIR: tempDir('configctl-records-') }
  return (args: string[], base = url) => configctl(base, args, { env })
}

describe('three-way apply', () => {
  it('when someone else sets a key and the file drops one, then apply removes the dropped key and keeps theirs', async () => {
    const run = withState()
    const dir = configFolder({ 'tw-a.yaml': 'dcname: tw-a\nmetadata:\n  team: payments\n  tier: 1\n' })
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    await patchOnServer('tw-a', { owner: 'bob' })
    writeFiles(dir, { 'tw-a.yaml': 'dcname: tw-a\nmetadata:\n  team: payments\n' })

    const applied = await run(['apply', '-f', dir])
    expect(applied).toEqual({
      code: 0,
      stdout: 'config/tw-a configured\n1 config: 0 created, 1 configured, 0 unchanged\n',
      stderr: '',
    })
    expect(await stored('tw-a')).toEqual({ dcname: 'tw-a', metadata: { team: 'payments', owner: 'bob' } })
  })

  it('when nested keys are dropped and set elsewhere, then the merge goes key by key inside objects', async () => {
    const run = withState()
    const dir = configFolder({
      'tw-b.json': { dcname: 'tw-b', metadata: { limits: { cpu: { enabled: true, value: '500m' } }, tags: ['a'] } },
    })
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    await patchOnServer('tw-b', { limits: { memory: { value: '1Gi' } }, tags: ['a', 'b'] })
    writeFiles(dir, { 'tw-b.json': { dcname: 'tw-b', metadata: { limits: { cpu: { value: '1' } }, tags: ['c'] } } })

    expect((await run(['apply', '-f', dir])).code).toBe(0)
    expect(await stored('tw-b')).toEqual({
      dcname: 'tw-b',
      metadata: { limits: { cpu: { value: '1' }, memory: { value: '1Gi' } }, tags: ['c'] },
    })
  })

  it('when apply changes a config, then it sends a merge patch with If-Match of the revision it read', async () => {
    const run = withState()
    const seen: { method: string; type: string | null; ifMatch: string | null; body: string }[] = []
    // The records are per service URL: both applies go through this proxy, which notes the writes.
    const proxy = Bun.serve({
      port: 0,
      async fetch(request) {
        const { pathname, search } = new URL(request.url)
        const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text()
        if (body !== undefined) {
          const [type, ifMatch] = [request.headers.get('content-type'), request.headers.get('if-match')]
          seen.push({ method: request.method, type, ifMatch, body })
        }
        return fetch(`${url}${pathname}${search}`, { method: request.method, headers: request.headers, body })
      },
    })
    const through = `http://127.0.0.1:${proxy.port}`
    try {
      const dir = configFolder({ 'tw-c.json': { dcname: 'tw-c', metadata: { team: 'a', tier: 1 } } })
      expect((await run(['apply', '-f', dir], through)).code).toBe(0)
      const read = await revisionOf('tw-c')
      writeFiles(dir, { 'tw-c.json': { dcname: 'tw-c', metadata: { team: 'b' } } })
      expect((await run(['apply', '-f', dir], through)).code).toBe(0)
      expect(seen).toHaveLength(2)
      expect({ ...seen[1], body: JSON.parse(seen[1]?.body ?? '') }).toEqual({
        method: 'PATCH',
        type: 'application/merge-patch+json',
        ifMatch: `"${read}"`,
        body: { metadata: { team: 'b', tier: null } },
      })
    } finally {
      await proxy.stop(true)
    }
  })

  it('when --force is given, then the config is replaced by the file, keys set elsewhere included', async () => {
    const run = withState()
    const dir = configFolder({ 'tw-d.json': { dcname: 'tw-d', metadata: { team: 'a' } } })
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    await patchOnServer('tw-d', { owner: 'bob' })
    expect((await run(['apply', '-f', dir])).stdout).toStartWith('config/tw-d unchanged\n')

    const forced = await run(['apply', '-f', dir, '--force'])
    expect(forced.stdout).toStartWith('config/tw-d configured\n')
    expect(await stored('tw-d')).toEqual({ dcname: 'tw-d', metadata: { team: 'a' } })
  })

  it('when there is no record of an earlier apply, then nothing the file lacks is removed, and a warning names it', async () => {
    const dir = configFolder({ 'tw-e.json': { dcname: 'tw-e', metadata: { team: 'a', tier: 1 } } })
    expect((await withState()(['apply', '-f', dir])).code).toBe(0)
    writeFiles(dir, { 'tw-e.json': { dcname: 'tw-e', metadata: { team: 'b' } } })

    const elsewhere = await withState()(['apply', '-f', dir])
    expect(elsewhere.code).toBe(0)
    expect(elsewhere.stderr).toBe(
      'warning: config/tw-e: no record of an earlier apply to this service here, so what the file lacks is kept (metadata.tier); --force replaces the whole config\n',
    )
    expect(await stored('tw-e')).toEqual({ dcname: 'tw-e', metadata: { team: 'b', tier: 1 } })
  })

  it('when the config changes on the service between the read and the patch, then the patch is refused (412) and reported', async () => {
    const run = withState()
    const dir = configFolder({ 'tw-f.json': { dcname: 'tw-f', metadata: { team: 'a' } } })
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    writeFiles(dir, { 'tw-f.json': { dcname: 'tw-f', metadata: { team: 'b' } } })
    const proxy = Bun.serve({
      port: 0,
      async fetch(request) {
        const { pathname, search } = new URL(request.url)
        if (request.method === 'PATCH') await patchOnServer('tw-f', { owner: 'someone-else' })
        const body = request.method === 'GET' ? undefined : await request.arrayBuffer()
        return fetch(`${url}${pathname}${search}`, { method: request.method, headers: request.headers, body })
      },
    })
    try {
      const raced = await run(['apply', '-f', dir], `http://127.0.0.1:${proxy.port}`)
      expect(raced.code).toBe(1)
      expect(raced.stderr).toStartWith('error: config/tw-f: ')
      expect(raced.stderr).toContain('it changed on the service after it was compared, so it was not written')
      expect(raced.stderr.trimEnd().split('\n')).toHaveLength(1)
    } finally {
      await proxy.stop(true)
    }
    expect(await stored('tw-f')).toEqual({ dcname: 'tw-f', metadata: { team: 'a', owner: 'someone-else' } })
  })

  it('when a file sets a key to null, then apply stores the null and still keeps keys set elsewhere (the merge is put whole)', async () => {
    const run = withState()
    const dir = configFolder({ 'tw-g.json': { dcname: 'tw-g', metadata: { team: 'a' } } })
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    await patchOnServer('tw-g', { owner: 'bob' })
    writeFiles(dir, { 'tw-g.json': { dcname: 'tw-g', metadata: { team: 'a', tier: null } } })
    expect((await run(['apply', '-f', dir])).stdout).toStartWith('config/tw-g configured\n')
    expect(await stored('tw-g')).toEqual({ dcname: 'tw-g', metadata: { team: 'a', owner: 'bob', tier: null } })
    expect((await run(['apply', '-f', dir])).stdout).toStartWith('config/tw-g unchanged\n')
  })
})

describe('diff shows what apply does', () => {
  it('when keys were set elsewhere and dropped from the file, then diff shows exactly the change apply then makes', async () => {
    const run = withState()
    const dir = configFolder({ 'td-a.yaml': 'dcname: td-a\nmetadata:\n  team: payments\n  tier: 1\n' })
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    await patchOnServer('td-a', { owner: 'bob' })
    writeFiles(dir, { 'td-a.yaml': 'dcname: td-a\nmetadata:\n  team: search\n' })
    const revision = await revisionOf('td-a')

    const shown = await run(['diff', '-f', dir])
    expect(shown.code).toBe(1)
    expect(shown.stdout).toBe(
      [
        `--- config/td-a (server, revision ${revision})`,
        `+++ config/td-a (${join(dir, 'td-a.yaml')})`,
        '@@ -1,8 +1,7 @@',
        ' {',
        '   "dcname": "td-a",',
        '   "metadata": {',
        '     "owner": "bob",',
        '-    "team": "payments",',
        '-    "tier": 1',
        '+    "team": "search"',
        '   }',
        ' }',
        '',
      ].join('\n'),
    )
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    expect(await stored('td-a')).toEqual({ dcname: 'td-a', metadata: { owner: 'bob', team: 'search' } })
    expect(await run(['diff', '-f', dir])).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('when diff --force is asked, then it shows the replacement apply --force makes', async () => {
    const run = withState()
    const dir = configFolder({ 'td-b.json': { dcname: 'td-b', metadata: { team: 'a' } } })
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    await patchOnServer('td-b', { owner: 'bob' })
    expect((await run(['diff', '-f', dir])).code).toBe(0)
    const forced = await run(['diff', '-f', dir, '--force'])
    expect(forced.code).toBe(1)
    expect(forced.stdout).toContain('\n-    "owner": "bob",\n')
  })
})

describe('where the last-applied record is kept', () => {
  it('when apply writes, then the record is one file per config under the state dir, per service URL, readable by the user only', async () => {
    const state = tempDir('configctl-xdg-')
    const dir = configFolder({ 'tl-a.json': { dcname: 'tl-a', metadata: { team: 'a' } } })
    const run = await configctl(url, ['apply', '-f', dir], { env: { XDG_STATE_HOME: state } })
    expect(run.code).toBe(0)
    const root = join(state, 'configctl', 'last-applied')
    const [service] = readdirSync(root)
    expect(service).toStartWith(`http_127.0.0.1_${new URL(url).port}-`)
    const file = join(root, service as string, 'tl-a.json')
    expect(await Bun.file(file).json()).toEqual({ dcname: 'tl-a', metadata: { team: 'a' } })
    expect((await Bun.file(file).stat()).mode & 0o777).toBe(0o600)
  })

  it('when apply runs with --dry-run, then the record stays as the last real apply left it', async () => {
    const run = withState()
    const dir = configFolder({ 'tl-b.json': { dcname: 'tl-b', metadata: { team: 'a', tier: 1 } } })
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    await patchOnServer('tl-b', { owner: 'bob' })
    writeFiles(dir, { 'tl-b.json': { dcname: 'tl-b', metadata: { team: 'a' } } })
    expect((await run(['apply', '-f', dir, '--dry-run'])).stdout).toStartWith('config/tl-b configured (dry run)\n')
    // Had the dry run recorded the file, tier would now count as set elsewhere and stay.
    expect((await run(['apply', '-f', dir])).code).toBe(0)
    expect(await stored('tl-b')).toEqual({ dcname: 'tl-b', metadata: { team: 'a', owner: 'bob' } })
  })
})
