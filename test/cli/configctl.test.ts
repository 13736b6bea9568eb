/**
 * configctl as built by `make cli` (dist/configctl), run as a process against a real service
 * process: apply, diff, prune, the reads and writes, output formats, tokens and exit codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { type RunningServer, startServer } from '../support/server.ts'
import { api, buildConfigctl, configctl, configFolder, writeFiles } from './support.ts'

const servers: RunningServer[] = []
async function service(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer({ env: { SEED: 'false', ...env } })
  servers.push(server)
  return server
}

beforeAll(async () => {
  await buildConfigctl()
}, 60_000)
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
})

async function stored(url: string, name: string): Promise<unknown> {
  const answer = await api(url, `/configs/${name}`)
  return answer.status === 200 ? JSON.parse(answer.text) : answer.status
}

const revisionOf = async (url: string) => Number((await api(url, '/configs?limit=1')).headers.get('x-revision'))

describe('apply and diff', () => {
  let url: string
  beforeAll(async () => {
    url = (await service()).url
  })

  it('when a folder of JSON and YAML files is applied, then each config is created, then unchanged on a second apply', async () => {
    const dir = configFolder({
      'pay-a.json': { dcname: 'pay-a', metadata: { team: 'payments', monitoring: { enabled: true } } },
      'pay-b.yaml':
        'dcname: pay-b\nmetadata:\n  monitoring:\n    enabled: "true"\n  limits:\n    cpu: { enabled: true, value: 500m }\n',
      'pay-c.yml': 'dcname: pay-c\nmetadata: {}\n',
      'README.md': 'not a config: ignored',
    })
    const first = await configctl(url, ['apply', '-f', dir])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toBe(
      'config/pay-a created\nconfig/pay-b created\nconfig/pay-c created\n3 configs: 3 created, 0 configured, 0 unchanged\n',
    )
    expect(await stored(url, 'pay-b')).toEqual({
      dcname: 'pay-b',
      metadata: { monitoring: { enabled: true }, limits: { cpu: { enabled: true, value: '500m' } } },
    })

    const again = await configctl(url, ['apply', '-f', dir])
    expect(again.code).toBe(0)
    expect(again.stdout).toBe(
      'config/pay-a unchanged\nconfig/pay-b unchanged\nconfig/pay-c unchanged\n3 configs: 0 created, 0 configured, 3 unchanged\n',
    )
  })

  it('when a file changes, then diff prints a plain unified diff and exits 1, and 0 once applied', async () => {
    const dir = configFolder({ 'diff-a.yaml': 'dcname: diff-a\nmetadata:\n  team: payments\n  tier: 1\n' })
    expect((await configctl(url, ['apply', '-f', dir])).code).toBe(0)
    writeFiles(dir, { 'diff-a.yaml': 'dcname: diff-a\nmetadata:\n  tier: 1\n  team: search\n' })

    const changed = await configctl(url, ['diff', '-f', dir])
    expect(changed.code).toBe(1)
    expect(changed.stderr).toBe('')
    const revision = (await api(url, '/configs/diff-a')).headers.get('etag')?.replaceAll('"', '')
    expect(changed.stdout).toBe(
      [
        `--- config/diff-a (server, revision ${revision})`,
        `+++ config/diff-a (${join(dir, 'diff-a.yaml')})`,
        '@@ -1,7 +1,7 @@',
        ' {',
        '   "dcname": "diff-a",',
        '   "metadata": {',
        '-    "team": "payments",',
        '+    "team": "search",',
        '     "tier": 1',
        '   }',
        ' }',
        '',
      ].join('\n'),
    )
    expect((await configctl(url, ['apply', '-f', dir])).stdout).toContain('config/diff-a configured\n')
    const same = await configctl(url, ['diff', '-f', dir])
    expect(same).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('when diff runs on a terminal, then it is coloured, unless NO_COLOR is set', async () => {
    const dir = configFolder({ 'tty-a.json': { dcname: 'tty-a', metadata: {} } })
    // script(1) gives configctl a pseudo-terminal as stdout.
    const onTerminal = (env: Record<string, string>) =>
      configctl(url, ['-qec', `dist/configctl diff -f ${dir}`, '/dev/null'], { command: ['script'], env })
    const coloured = await onTerminal({})
    expect(coloured.code).toBe(1)
    expect(coloured.stdout).toContain('\x1b[32m+  "dcname": "tty-a",\x1b[0m')
    const plain = await onTerminal({ NO_COLOR: '1' })
    expect(plain.stdout).toContain('+  "dcname": "tty-a",')
    expect(plain.stdout).not.toContain('\x1b[')
  })

  it('when apply runs with --dry-run, then it prints what it would do and writes nothing', async () => {
    const dir = configFolder({
      'dry-a.json': { dcname: 'dry-a', metadata: {} },
      'pay-a.json': { dcname: 'pay-a', metadata: { team: 'other' } },
    })
    const before = await revisionOf(url)
    const run = await configctl(url, ['apply', '-f', dir, '--dry-run'])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      'config/dry-a created (dry run)\nconfig/pay-a configured (dry run)\n2 configs: 1 created, 1 configured, 0 unchanged (dry run)\n',
    )
    expect(await revisionOf(url)).toBe(before)
    expect(await stored(url, 'dry-a')).toBe(404)
  })

  it('when the config changes on the service between the compare and the write, then the write is refused (412) and reported', async () => {
    await api(url, '/configs/race-a', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { team: 'payments' } }),
    })
    const dir = configFolder({ 'race-a.json': { dcname: 'race-a', metadata: { team: 'search' } } })
    // A proxy in front of the service lets someone else write just before configctl's PUT arrives.
    let raced = false
    const proxy = Bun.serve({
      port: 0,
      async fetch(request) {
        const { pathname, search } = new URL(request.url)
        if ((request.method === 'PUT' || request.method === 'PATCH') && !raced) {
          raced = true
          await api(url, '/configs/race-a', {
            method: 'PATCH',
            headers: { 'content-type': 'application/merge-patch+json' },
            body: JSON.stringify({ metadata: { team: 'someone-else' } }),
          })
        }
        const body = request.method === 'GET' ? undefined : await request.arrayBuffer()
        return fetch(`${url}${pathname}${search}`, { method: request.method, headers: request.headers, body })
      },
    })
    try {
      const run = await configctl(`http://127.0.0.1:${proxy.port}`, ['apply', '-f', dir])
      expect(raced).toBe(true)
      expect(run.code).toBe(1)
      expect(run.stdout).toBe('1 config: 0 created, 0 configured, 0 unchanged, 1 failed\n')
      expect(run.stderr).toStartWith('error: config/race-a: ')
      expect(run.stderr).toContain('it changed on the service after it was compared, so it was not written')
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(await stored(url, 'race-a')).toEqual({ dcname: 'race-a', metadata: { team: 'someone-else' } })
    } finally {
      await proxy.stop(true)
    }
  })
})

describe('prune', () => {
  const put = (url: string, name: string) =>
    api(url, `/configs/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: {} }),
    })

  it('when apply runs with --prune, then every config not in the folder is deleted', async () => {
    const { url } = await service()
    for (const name of ['keep-a', 'gone-a', 'other-b']) await put(url, name)
    const dir = configFolder({ 'keep-a.json': { dcname: 'keep-a', metadata: {} } })
    const run = await configctl(url, ['apply', '-f', dir, '--prune'])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      'config/keep-a unchanged\nconfig/gone-a pruned\nconfig/other-b pruned\n1 config: 0 created, 0 configured, 1 unchanged, 2 pruned\n',
    )
    expect(JSON.parse((await api(url, '/configs')).text)).toEqual([{ dcname: 'keep-a', metadata: {} }])
  })

  it('when apply runs with --prune --prefix, then only configs under those prefixes are deleted', async () => {
    const { url } = await service()
    for (const name of ['pay-keep', 'pay-gone', 'search-x', 'ops-gone']) await put(url, name)
    const dir = configFolder({ 'pay-keep.json': { dcname: 'pay-keep', metadata: {} } })
    const run = await configctl(url, ['apply', '-f', dir, '--prune', '--prefix', 'pay-', '--prefix', 'ops-'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('config/ops-gone pruned\nconfig/pay-gone pruned\n')
    expect(run.stdout).not.toContain('search-x')
    const left = JSON.parse((await api(url, '/configs')).text).map((c: { dcname: string }) => c.dcname)
    expect(left).toEqual(['pay-keep', 'search-x'])
  })

  it('when --prune is not given, then nothing is deleted', async () => {
    const { url } = await service()
    await put(url, 'stays')
    const dir = configFolder({ 'other.json': { dcname: 'other', metadata: {} } })
    expect((await configctl(url, ['apply', '-f', dir])).code).toBe(0)
    expect(await stored(url, 'stays')).toEqual({ dcname: 'stays', metadata: {} })
  })
})
