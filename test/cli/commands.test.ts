/**
 * configctl's reads and single writes (dist/configctl, as a process, against a real service
 * process): output formats, watch, tokens, help, every exit code, and `bun run configctl`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { api, BINARY, buildConfigctl, configctl, configFolder, lineReader } from './support.ts'

const servers: RunningServer[] = []
let url: string

beforeAll(async () => {
  const [server] = await Promise.all([startServer({ env: { SEED: 'false' } }), buildConfigctl()])
  servers.push(server)
  url = server.url
  for (const [name, team] of [
    ['cmd-a', 'payments'],
    ['cmd-b', 'search'],
    ['cmd-c', 'payments'],
  ]) {
    await api(url, `/configs/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { team, since: '2024-01-02T03:04:05Z' } }),
    })
  }
}, 60_000)
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
})

describe('reads and writes', () => {
  it('when -o json is asked, then get and list print the API configs, each with its revision', async () => {
    const withRevision = async (name: string) => {
      const answer = await api(url, `/configs/${name}`)
      const { dcname, metadata } = JSON.parse(answer.text)
      return { dcname, revision: Number(answer.headers.get('etag')?.replaceAll('"', '')), metadata }
    }
    const get = await configctl(url, ['get', 'cmd-a', '-o', 'json'])
    expect(get.code).toBe(0)
    expect(get.stdout).toBe(`${JSON.stringify(await withRevision('cmd-a'))}\n`)
    const list = await configctl(url, ['list', '-o', 'json', '--filter', 'metadata.team=payments'])
    expect(JSON.parse(list.stdout)).toEqual([await withRevision('cmd-a'), await withRevision('cmd-c')])
  })

  it('when -o yaml or the default table is asked, then the same data is printed for people', async () => {
    const yaml = await configctl(url, ['get', 'cmd-b', '-o', 'yaml'])
    const revision = (await api(url, '/configs/cmd-b')).headers.get('etag')?.replaceAll('"', '')
    expect(parse(yaml.stdout)).toEqual({
      revision: Number(revision),
      ...JSON.parse((await api(url, '/configs/cmd-b')).text),
    })
    const table = await configctl(url, ['get', 'cmd-b'])
    expect(table.stdout).toBe(
      `NAME    REVISION   METADATA\ncmd-b   ${revision?.padEnd(8)}   {"team":"search","since":"2024-01-02T03:04:05Z"}\n`,
    )
    const list = await configctl(url, ['list', '--filter', 'dcname=cmd-c'])
    const listed = (await api(url, '/configs/cmd-c')).headers.get('etag')?.replaceAll('"', '')
    expect(list.stdout).toBe(
      `NAME    REVISION   METADATA\ncmd-c   ${listed?.padEnd(8)}   {"team":"payments","since":"2024-01-02T03:04:05Z"}\n`,
    )
  })

  it('when a config is patched and deleted, then the service has the change and get then exits 1 with the detail', async () => {
    await api(url, '/configs/cmd-d', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { team: 'ops' } }),
    })
    const patched = await configctl(url, ['patch', 'cmd-d', '-p', '{"metadata":{"team":null,"tier":2}}', '-o', 'json'])
    expect(patched.code).toBe(0)
    expect(JSON.parse(patched.stdout)).toMatchObject({ dcname: 'cmd-d', metadata: { tier: 2 } })
    expect(JSON.parse((await api(url, '/configs/cmd-d')).text)).toEqual({ dcname: 'cmd-d', metadata: { tier: 2 } })

    const deleted = await configctl(url, ['delete', 'cmd-d'])
    expect(deleted).toEqual({ code: 0, stdout: 'config/cmd-d deleted\n', stderr: '' })
    expect((await api(url, '/configs/cmd-d')).status).toBe(404)
    const missing = await configctl(url, ['get', 'cmd-d'])
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'error: config "cmd-d" does not exist\n' })
  })

  it('when a patch makes an invalid config, then it exits 1 with the detail and the field at fault on one line', async () => {
    const run = await configctl(url, ['patch', 'cmd-a', '-p', '{"metadata":{"limits":{"cpu":{"value":"lots"}}}}'])
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(
      'error: the patched config would not be valid (/metadata/limits/cpu/value: expected a Kubernetes quantity such as "500m", "2" or "512Mi")\n',
    )
  })
})

describe('watch', () => {
  it('when watching from a revision while a write happens, then each event arrives as one JSON line as it happens', async () => {
    const since = Number((await api(url, '/configs?limit=1')).headers.get('x-revision'))
    await api(url, '/configs/cmd-a', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { tier: 1 } }),
    })
    const child = Bun.spawn(
      [BINARY, 'watch', '--since', String(since), '-o', 'json', '--filter', 'metadata.team=payments'],
      {
        env: { PATH: process.env.PATH ?? '', CONFIGCTL_URL: url },
        stdout: 'pipe',
        stderr: 'pipe',
      },
    )
    const lines = lineReader(child.stdout)
    const replayed = JSON.parse(await lines.next())
    expect(replayed).toMatchObject({ type: 'MODIFIED', revision: since + 1, config: { dcname: 'cmd-a' } })

    // The write happens while configctl runs: its line must come out before configctl ends.
    await api(url, '/configs/cmd-c', { method: 'DELETE' })
    const live = await lines.next()
    expect(live).toBe(
      JSON.stringify({
        type: 'DELETED',
        revision: since + 2,
        config: { dcname: 'cmd-c', metadata: { team: 'payments', since: '2024-01-02T03:04:05Z' } },
      }),
    )
    child.kill('SIGINT')
    expect(await child.exited).toBe(0)
    expect(await new Response(child.stderr).text()).toBe('')
  })
})

describe('tokens', () => {
  let protectedUrl: string
  beforeAll(async () => {
    const server = await startServer({ env: { SEED: 'false', API_TOKEN: 'cli-test-token' } })
    servers.push(server)
    protectedUrl = server.url
  })
  const folder = () => configFolder({ 'tok-a.json': { dcname: 'tok-a', metadata: {} } })

  it('when a write needs a token and none is given, then it exits 1 saying to set CONFIGCTL_TOKEN or --token', async () => {
    const run = await configctl(protectedUrl, ['apply', '-f', folder()])
    expect(run.code).toBe(1)
    expect(run.stderr).toStartWith('error: config/tok-a: ')
    expect(run.stderr).toContain('(the service needs a token: set CONFIGCTL_TOKEN or pass --token)')
    const wrong = await configctl(protectedUrl, ['delete', 'tok-a', '--token', 'not-it'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('(the service does not accept this token: check CONFIGCTL_TOKEN or --token)')
    expect(wrong.stderr).not.toContain('not-it')
  })

  it('when the token comes from CONFIGCTL_TOKEN, then the write is made', async () => {
    const run = await configctl(protectedUrl, ['apply', '-f', folder()], { env: { CONFIGCTL_TOKEN: 'cli-test-token' } })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('config/tok-a ')
  })

  it('when the token comes from --token, then the write is made (and wins over the environment)', async () => {
    const run = await configctl(protectedUrl, ['--token', 'cli-test-token', 'delete', 'tok-a'], {
      env: { CONFIGCTL_TOKEN: 'stale' },
    })
    expect(run).toEqual({ code: 0, stdout: 'config/tok-a deleted\n', stderr: '' })
  })
})

describe('exit codes and help', () => {
  it.each([
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [['get'], "error: missing required argument 'name'"],
    [['apply'], "error: required option '-f, --file <path>' not specified"],
    [['get', 'cmd-a', '-o', 'xml'], "error: option '-o, --output <format>' argument 'xml' is invalid"],
    [['rollback', 'cmd-a', '--to', 'yesterday'], "error: option '--to <rev>' argument 'yesterday' is invalid"],
    [['list', '--filter', 'team'], 'expected key=value'],
    [['patch', 'cmd-a', '-p', '{nope'], 'error: -p is not valid JSON'],
    [['apply', '-f', '/nowhere/configs'], 'error: /nowhere/configs: no such file or folder'],
    [['apply', '-f', 'README.md'], 'error: README.md: not a .json, .yaml or .yml file'],
    [['--url', 'localhost:4999', 'list'], 'is not an http:// or https:// URL'],
  ])('when configctl is called as %j, then it exits 2 with one error line', async (args, message) => {
    const run = await configctl(url, args)
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(message)
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
  })

  it('when a file is not a valid config, then apply and diff exit 2 naming the file and the problem, and write nothing', async () => {
    const dir = configFolder({
      'good.json': { dcname: 'exit-good', metadata: {} },
      'bad.yaml': 'dcname: exit-bad\nmetadata:\n  limits:\n    cpu:\n      value: lots\nextra: 1\n',
    })
    for (const command of ['apply', 'diff']) {
      const run = await configctl(url, [command, '-f', dir])
      expect(run.code).toBe(2)
      expect(run.stderr).toStartWith(`error: ${dir}/bad.yaml: not a valid config: `)
      expect(run.stderr).toContain('/extra')
    }
    const broken = configFolder({ 'broken.json': '{"dcname": ' })
    expect((await configctl(url, ['apply', '-f', broken])).stderr).toStartWith(
      `error: ${broken}/broken.json: not valid JSON`,
    )
    expect((await api(url, '/configs/exit-good')).status).toBe(404)
  })

  it('when nothing answers at the URL, then it exits 1 saying so', async () => {
    const run = await configctl('http://127.0.0.1:9', ['list'])
    expect(run.code).toBe(1)
    expect(run.stderr).toStartWith('error: cannot reach http://127.0.0.1:9: ')
    expect(run.stderr).toContain('(is CONFIGCTL_URL or --url right?)')
  })

  it('when --help is asked of any command, then it exits 0 with an example', async () => {
    for (const command of ['get', 'list', 'apply', 'diff', 'patch', 'delete', 'history', 'rollback', 'watch']) {
      const run = await configctl(url, [command, '--help'])
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(`Usage: configctl ${command}`)
      expect(run.stdout).toContain(`Example:\n  $ configctl ${command}`)
      expect(run.stdout).toContain('--token <token>')
    }
    const bare = await configctl(url, [])
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('Usage: configctl')
  }, 60_000)

  it('when run from a checkout with bun run configctl --, then it works as the binary does', async () => {
    // Whoever types `bun run` has a `bun` on PATH, which the script's own `bun` then finds (the
    // pinned one that make fetches is named bun.exe, and is not on PATH).
    const bin = tempDir('bun-on-path-')
    symlinkSync(process.execPath, join(bin, 'bun'))
    const run = await configctl(url, ['get', 'cmd-b', '-o', 'json'], {
      command: [process.execPath, 'run', 'configctl', '--'],
      env: { PATH: `${bin}:${process.env.PATH ?? ''}` },
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toBe((await configctl(url, ['get', 'cmd-b', '-o', 'json'])).stdout)
  })
})
