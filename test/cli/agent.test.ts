/**
 * configctl agent as it runs in a pod: the built executable (dist/configctl) as a process,
 * writing real files, against a real service process. Files are replaced atomically (a new
 * inode by rename; a folder by its ..data symlink), a change the check refuses leaves the last
 * good copy and is reported rejected, an agent restarted while the service is away keeps the
 * file, and a watch that cannot resume (410) lists again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { eachLine, type RunningServer, startServer, tempDir } from '../support/server.ts'
import { waitFor } from '../support/wait.ts'
import { api, BINARY, buildConfigctl, configctl } from './support.ts'

const servers: RunningServer[] = []
const agents: Subprocess[] = []
let url: string

const start = async (env: Record<string, string> = {}, databaseUrl?: string) => {
  const server = await startServer({ env: { SEED: 'false', CONSUMERS_FLUSH_MS: '5', ...env }, databaseUrl })
  servers.push(server)
  return server
}

beforeAll(async () => {
  const [server] = await Promise.all([start(), buildConfigctl()])
  url = server.url
}, 60_000)
afterEach(() => {
  for (const agent of agents.splice(0)) agent.kill('SIGKILL')
})
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
})

let n = 0
const fresh = () => `agent-${++n}-${Date.now().toString(36)}`

async function put(base: string, dcname: string, metadata: Record<string, unknown>): Promise<number> {
  const answer = await api(base, `/configs/${dcname}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ dcname, metadata }),
  })
  expect(answer.status, answer.text).toBeLessThan(300)
  return Number(answer.headers.get('etag')?.replaceAll('"', ''))
}

interface Agent {
  process: Subprocess<'ignore', 'pipe', 'pipe'>
  /** Every stderr line so far. */
  lines: string[]
}

function agent(base: string, args: string[]): Agent {
  const child = Bun.spawn([BINARY, 'agent', '--consumer', 'test-pod', '--heartbeat', '1', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CONFIGCTL_URL: base },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  agents.push(child)
  const lines: string[] = []
  void eachLine(child.stderr, (line) => lines.push(line))
  return { process: child, lines }
}

const read = (path: string) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined)
const consumers = async (base: string, dcname: string) =>
  JSON.parse((await api(base, `/configs/${dcname}/consumers`)).text)

describe('configctl agent', () => {
  it('when the config changes, then the file is replaced by a new one (rename), leaving no temp file', async () => {
    const dcname = fresh()
    const revision = await put(url, dcname, { v: 1 })
    const dir = tempDir('agent-')
    const file = join(dir, 'config.json')
    agent(url, ['--dcname', dcname, '--file', file])
    await waitFor(() => read(file)?.metadata?.v === 1, 15_000, 'the first file')
    const first = statSync(file).ino
    await waitFor(async () => (await consumers(url, dcname))[0]?.revision === revision, 15_000, 'the first report')
    const next = await put(url, dcname, { v: 2 })
    await waitFor(() => read(file)?.metadata?.v === 2, 15_000, 'the new file')
    expect(read(file)).toEqual({ dcname, metadata: { v: 2 } })
    expect(statSync(file).ino).not.toBe(first)
    expect(readdirSync(dir)).toEqual(['config.json'])
    const [report] = await waitFor(async () => {
      const listed = await consumers(url, dcname)
      return listed[0]?.revision === next ? listed : undefined
    }, 15_000)
    expect(report).toMatchObject({ consumer: 'test-pod', state: 'applied', status: 'applied' })
  })

  it('when a prefix is kept in a folder, then each change swaps ..data to a new folder and removes the old one', async () => {
    const prefix = `${fresh()}-`
    await put(url, `${prefix}a`, { v: 1 })
    await put(url, `${prefix}b`, { v: 1 })
    const dir = tempDir('agent-dir-')
    agent(url, ['--prefix', prefix, '--dir', dir])
    await waitFor(() => read(join(dir, `${prefix}b.json`))?.metadata?.v === 1, 15_000, 'the folder')
    const before = readlinkSync(join(dir, '..data'))
    await put(url, `${prefix}a`, { v: 2 })
    await waitFor(() => read(join(dir, `${prefix}a.json`))?.metadata?.v === 2, 15_000, 'the swap')
    // The old folder goes right after the swap.
    await waitFor(() => !existsSync(join(dir, before)), 15_000, 'the old folder to go')
    const after = readlinkSync(join(dir, '..data'))
    expect(after).not.toBe(before)
    expect(readlinkSync(join(dir, `${prefix}a.json`))).toBe(`..data/${prefix}a.json`)
    expect(readdirSync(dir).sort()).toEqual([after, '..data', `${prefix}a.json`, `${prefix}b.json`].sort())
    expect(read(join(dir, `${prefix}b.json`))).toEqual({ dcname: `${prefix}b`, metadata: { v: 1 } })
  })

  it('when the check fails on a change, then the old file stays and the change is reported rejected with its output', async () => {
    const dcname = fresh()
    await put(url, dcname, { ok: true, v: 1 })
    const file = join(tempDir('agent-check-'), 'config.json')
    const check = `grep -q '"ok": true' "$CONFIG_FILE" || { echo "refused: ok is not true" >&2; exit 3; }`
    agent(url, ['--dcname', dcname, '--file', file, '--check', check])
    await waitFor(() => read(file)?.metadata?.v === 1, 15_000, 'the first file')
    const bad = await put(url, dcname, { ok: false, v: 2 })
    const [report] = await waitFor(async () => {
      const listed = await consumers(url, dcname)
      return listed[0]?.revision === bad ? listed : undefined
    }, 15_000)
    expect(report).toMatchObject({ state: 'rejected', status: 'rejected', message: 'refused: ok is not true' })
    expect(read(file)).toEqual({ dcname, metadata: { ok: true, v: 1 } })
    expect(readdirSync(join(file, '..'))).toEqual(['config.json'])
    // A good change after it is applied.
    const good = await put(url, dcname, { ok: true, v: 3 })
    await waitFor(() => read(file)?.metadata?.v === 3, 15_000, 'the good change')
    await waitFor(async () => (await consumers(url, dcname))[0]?.revision === good, 15_000, 'its report')
  })

  it('when a reload command is given, then it runs after each written change, with the file in place', async () => {
    const dcname = fresh()
    await put(url, dcname, { v: 1 })
    const dir = tempDir('agent-reload-')
    const file = join(dir, 'config.json')
    const log = join(dir, 'reloads.log')
    agent(url, ['--dcname', dcname, '--file', file, '--reload', `cat "$CONFIG_FILE" >> ${log}`])
    await put(url, dcname, { v: 2 })
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('"v": 2'), 15_000, 'the reload')
  })
})

describe('configctl agent usage', () => {
  for (const [args, line] of [
    [['--file', 'x.json'], 'error: give --dcname or --prefix'],
    [['--dcname', 'a', '--prefix', 'a'], 'error: give --dcname or --prefix'],
    [['--prefix', 'a-', '--file', 'x.json'], 'error: --prefix writes many files: use --dir'],
    [['--dcname', 'a', '--dir', 'd', '--signal', 'HUP'], 'error: --signal and --pid-file go together'],
  ] as const) {
    it(`when called with ${args.join(' ')}, then it exits 2 with one line and writes nothing`, async () => {
      const cwd = tempDir('agent-usage-')
      const run = await configctl(url, ['agent', ...args], { cwd })
      expect([run.code, run.stderr]).toEqual([2, `${line}\n`])
      expect(readdirSync(cwd)).toEqual([])
    })
  }
  it('when the consumer name is not a hostname, then it exits 2 naming the rule', async () => {
    const run = await configctl(url, ['agent', '--dcname', 'a', '--file', 'x', '--consumer', 'a b'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('expected a consumer name')
  })
})

describe('configctl agent heartbeats', () => {
  it('when the config stays as it is, then the agent repeats its report, still live after the first report expired', async () => {
    const server = await start({ CONSUMERS_TTL_MS: '1500' })
    const dcname = fresh()
    const revision = await put(server.url, dcname, { v: 1 })
    agent(server.url, ['--dcname', dcname, '--file', join(tempDir('agent-beat-'), 'config.json'), '--heartbeat', '0.3'])
    const [first] = await waitFor(async () => {
      const listed = await consumers(server.url, dcname)
      return listed[0]?.revision === revision ? listed : undefined
    }, 15_000)
    // A report made after the first one's expiry, with the consumer still live.
    const [later] = await waitFor(async () => {
      const listed = await consumers(server.url, dcname)
      return Date.parse(listed[0]?.reportedAt) > Date.parse(first.expiresAt) ? listed : undefined
    }, 20_000)
    expect(later).toMatchObject({ consumer: 'test-pod', revision, status: 'applied' })
  })
})

describe('configctl agent while the service is away', () => {
  it('when it restarts with the service down, then the last good file stays, and --once exits 0 keeping it', async () => {
    const server = await start()
    const dcname = fresh()
    await put(server.url, dcname, { v: 1 })
    const file = join(tempDir('agent-down-'), 'config.json')
    const first = agent(server.url, ['--dcname', dcname, '--file', file])
    await waitFor(() => read(file)?.metadata?.v === 1, 15_000, 'the first file')
    first.process.kill('SIGTERM')
    expect(await first.process.exited).toBe(0)
    await server.stop()
    const written = readFileSync(file, 'utf8')

    const again = agent(server.url, ['--dcname', dcname, '--file', file])
    await waitFor(() => again.lines.some((l) => l.includes('keeping the last good copy')), 15_000, 'the retry line')
    expect(again.process.exitCode).toBeNull()
    expect(readFileSync(file, 'utf8')).toBe(written)
    const once = agent(server.url, ['--dcname', dcname, '--file', file, '--once'])
    expect(await once.process.exited).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(written)
  })

  it('when the watch cannot resume after an outage (410), then it lists again and writes the newest state', async () => {
    const server = await start({ WATCH_HISTORY_SIZE: '2' })
    const dcname = fresh()
    await put(server.url, dcname, { v: 1 })
    const file = join(tempDir('agent-410-'), 'config.json')
    const running = agent(server.url, ['--dcname', dcname, '--file', file])
    await waitFor(() => read(file)?.metadata?.v === 1, 15_000, 'the first file')
    await server.stop()
    // Writes while it is away, past the kept history: the agent's `since` is too old to replay.
    const store = new SqliteConfigStore({ path: server.databaseUrl.replace(/^sqlite:/, ''), open: openBunSqlite })
    for (const v of [2, 3, 4, 5]) await store.replace({ dcname, metadata: { v } }, {}, { actor: 'test', requestId: '' })
    await store.close()
    const back = await start({ WATCH_HISTORY_SIZE: '2', SERVE_PORT: String(server.port) }, server.databaseUrl)
    await waitFor(() => read(file)?.metadata?.v === 5, 20_000, 'the relisted state')
    expect(running.lines.some((l) => l.includes('relisting'))).toBe(true)
    await waitFor(async () => (await consumers(back.url, dcname))[0]?.status === 'applied', 15_000, 'the report')
  })
})
