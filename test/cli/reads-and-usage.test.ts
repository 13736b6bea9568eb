/**
 * What a new user of configctl (dist/configctl, as a process, against a real service process)
 * meets first: --version, revisions in get and list, an empty list, watch --since 0, and usage
 * errors found before any request (a bad filter, a bad dcname, a file that is not valid YAML).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { DCNAME_RULE } from '../../src/configs/model.ts'
import { ROOT, type RunningServer, startServer } from '../support/server.ts'
import { api, BINARY, buildConfigctl, configctl, configFolder } from './support.ts'

const servers: RunningServer[] = []
let url: string

const put = (base: string, name: string, metadata: Record<string, unknown>) =>
  api(base, `/configs/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ metadata }),
  })
const etagOf = async (name: string) =>
  Number((await api(url, `/configs/${name}`)).headers.get('etag')?.replaceAll('"', ''))

beforeAll(async () => {
  const [server] = await Promise.all([startServer({ env: { SEED: 'false' } }), buildConfigctl()])
  servers.push(server)
  url = server.url
  await put(url, 'rev-a', { team: 'payments' })
  await put(url, 'rev-b', { team: 'search' })
  await put(url, 'rev-a', { team: 'payments', tier: 1 })
}, 60_000)
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
})

/** A service that counts the requests it gets and answers each with a 500. */
function countingService() {
  let requests = 0
  const server = Bun.serve({
    port: 0,
    fetch() {
      requests++
      return new Response('no', { status: 500 })
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, requests: () => requests, stop: () => server.stop(true) }
}

describe('version', () => {
  it('when --version is asked, then it prints configctl and the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect(await configctl(url, ['--version'])).toEqual({ code: 0, stdout: `configctl ${version}\n`, stderr: '' })
  })
})

describe('revisions in get and list', () => {
  it('when list prints a table, then each row has the revision of its config', async () => {
    const run = await configctl(url, ['list'])
    expect(run.code).toBe(0)
    const [a, b] = [await etagOf('rev-a'), await etagOf('rev-b')]
    expect(run.stdout).toBe(
      [
        'NAME    REVISION   METADATA',
        `rev-a   ${String(a).padEnd(8)}   {"team":"payments","tier":1}`,
        `rev-b   ${String(b).padEnd(8)}   {"team":"search"}`,
        '',
      ].join('\n'),
    )
  })

  it('when get -o json is asked, then it prints the config with its revision beside the dcname', async () => {
    const run = await configctl(url, ['get', 'rev-a', '-o', 'json'])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      `${JSON.stringify({ dcname: 'rev-a', revision: await etagOf('rev-a'), metadata: { team: 'payments', tier: 1 } })}\n`,
    )
  })

  it('when get -o yaml is asked, then the revision is there too, and it is the If-Match that makes a write', async () => {
    const printed = parse((await configctl(url, ['get', 'rev-b', '-o', 'yaml'])).stdout)
    expect(printed).toEqual({ dcname: 'rev-b', revision: await etagOf('rev-b'), metadata: { team: 'search' } })
    const write = await api(url, '/configs/rev-b', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json', 'if-match': `"${printed.revision}"` },
      body: JSON.stringify({ metadata: { tier: 2 } }),
    })
    expect(write.status).toBe(200)
  })

  it('when list -o json is asked, then every config has its revision, as get prints it', async () => {
    const listed = JSON.parse((await configctl(url, ['list', '-o', 'json'])).stdout)
    expect(listed.map((config: { revision: unknown }) => typeof config.revision)).toEqual(['number', 'number'])
    const each = await Promise.all(
      ['rev-a', 'rev-b'].map(async (name) => JSON.parse((await configctl(url, ['get', name, '-o', 'json'])).stdout)),
    )
    expect(listed).toEqual(each)
  })

  it('when a config is written between the list and the reading of its revision, then its row keeps the revision of the state listed', async () => {
    await put(url, 'rev-c', { team: 'ops' })
    const listed = await etagOf('rev-c')
    // A proxy lets someone else write rev-c right after the list has been answered.
    const proxy = Bun.serve({
      port: 0,
      async fetch(request) {
        const { pathname, search } = new URL(request.url)
        const answer = await fetch(`${url}${pathname}${search}`, { method: request.method, headers: request.headers })
        if (request.method === 'GET' && pathname === '/configs') await put(url, 'rev-c', { team: 'moved-on' })
        return answer
      },
    })
    try {
      const run = await configctl(`http://127.0.0.1:${proxy.port}`, ['list', '--filter', 'dcname=rev-c', '-o', 'json'])
      expect(JSON.parse(run.stdout)).toEqual([{ dcname: 'rev-c', revision: listed, metadata: { team: 'ops' } }])
      expect(await etagOf('rev-c')).toBeGreaterThan(listed)
    } finally {
      await proxy.stop(true)
    }
  })

  it('when a file holds what get -o yaml printed, then apply takes it as the config (the revision is left out)', async () => {
    const printed = (await configctl(url, ['get', 'rev-a', '-o', 'yaml'])).stdout
    expect(printed).toContain(`\nrevision: ${await etagOf('rev-a')}\n`)
    const dir = configFolder({ 'rev-a.yaml': printed.replace('tier: 1', 'tier: 3') })
    const run = await configctl(url, ['apply', '-f', dir])
    expect(run).toEqual({
      code: 0,
      stdout: 'config/rev-a configured\n1 config: 0 created, 1 configured, 0 unchanged\n',
      stderr: '',
    })
    expect(JSON.parse((await api(url, '/configs/rev-a')).text)).toEqual({
      dcname: 'rev-a',
      metadata: { team: 'payments', tier: 3 },
    })
  })
})

describe('an empty list', () => {
  it('when no config matches the filters, then the table says so on stderr and prints no rows, and -o json prints []', async () => {
    const table = await configctl(url, ['list', '--filter', 'metadata.team=nobody'])
    expect(table).toEqual({ code: 0, stdout: '', stderr: 'no configs match the filters\n' })
    const json = await configctl(url, ['list', '--filter', 'metadata.team=nobody', '-o', 'json'])
    expect(json).toEqual({ code: 0, stdout: '[]\n', stderr: '' })
  })

  it('when the service has no config, then list says so', async () => {
    const empty = await startServer({ env: { SEED: 'false' } })
    servers.push(empty)
    expect(await configctl(empty.url, ['list'])).toEqual({ code: 0, stdout: '', stderr: 'no configs\n' })
  })
})

describe('watch --since 0', () => {
  it('when watching since 0, then every kept change is replayed from the first', async () => {
    const child = Bun.spawn([BINARY, 'watch', '--since', '0', '-o', 'json'], {
      env: { PATH: process.env.PATH ?? '', CONFIGCTL_URL: url },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    while (!text.includes('\n')) {
      const read = await reader.read()
      if (read.done) break
      text += read.value
    }
    child.kill('SIGINT')
    expect(await child.exited).toBe(0)
    expect(await new Response(child.stderr).text()).toBe('')
    expect(JSON.parse(text.slice(0, text.indexOf('\n')))).toMatchObject({
      type: 'ADDED',
      revision: 1,
      config: { dcname: 'rev-a', metadata: { team: 'payments' } },
    })
  })
})

describe('usage errors before any request', () => {
  it.each([
    [['list', '--filter', 'team=edge'], '"team" is not a filter: use dcname=<name> or metadata.<path>=<value>'],
    [['list', '--filter', 'limit=5'], '"limit" is not a filter'],
    [['watch', '--filter', 'metadata.a b=1'], '"metadata.a b" is not a path of letters, digits, "-" and "_" segments'],
    [['list', '--filter', 'dcname=x', '--filter', 'dcname=y'], '"dcname" is filtered on twice'],
  ])(
    'when a filter is not one the service takes (%j), then it exits 2 with one line and sends nothing',
    async (args, message) => {
      const service = countingService()
      try {
        const run = await configctl(service.url, args)
        expect(run.code).toBe(2)
        expect(run.stdout).toBe('')
        expect(run.stderr).toContain(message)
        expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
        expect(service.requests()).toBe(0)
      } finally {
        service.stop()
      }
    },
  )

  it('when a command names a config by a bad dcname, then it exits 2 stating the rule as the README does, sending nothing', async () => {
    const service = countingService()
    try {
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
      const stated = /^- `dcname`: (.+?)\.$/ms.exec(readme)?.[1]?.replaceAll(/`(.)`/g, '"$1"').replaceAll(/\s+/g, ' ')
      expect(stated).toBe(DCNAME_RULE)
      const run = await configctl(service.url, ['get', 'Bad_'])
      expect(run.code).toBe(2)
      expect(run.stderr).toBe(
        `error: command-argument value 'Bad_' is invalid for argument 'name'. expected a dcname: ${DCNAME_RULE}\n`,
      )
      expect(service.requests()).toBe(0)
    } finally {
      service.stop()
    }
  })

  it.each([['Bad_'], ['a'.repeat(254)]])(
    'when a file has a bad dcname (%s), then the error states the rule in words once, never a lowercased pattern',
    async (name) => {
      const dir = configFolder({ 'bad.yaml': `dcname: ${name}\nmetadata: {}\n` })
      const run = await configctl(url, ['diff', '-f', dir])
      expect(run.code).toBe(2)
      expect(run.stderr).toBe(
        `error: ${dir}/bad.yaml: not a valid config: /dcname: expected a dcname: ${DCNAME_RULE}\n`,
      )
    },
  )

  it('when a YAML file does not parse, then the error gives the line, the column and the reason', async () => {
    const dir = configFolder({ 'broken.yaml': 'dcname: y-1\nmetadata:\n  team: [payments\n' })
    const run = await configctl(url, ['apply', '-f', dir])
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(
      `error: ${dir}/broken.yaml: not valid YAML at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]\n`,
    )
  })
})
