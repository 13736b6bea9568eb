/**
 * `make run-postgres`, run as a new user runs it: a throwaway PostgreSQL and two replicas on it;
 * a watch through one replica shows a write made through the other, a write through one is read
 * back at once through the other, and Ctrl-C (SIGINT to make's process group, as a terminal
 * sends it) stops everything and removes the cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { type Config, createClient, type WatchItem } from '../../src/client/index.ts'
import { ROOT } from '../support/server.ts'
import { userEnv } from './fresh-archive.ts'

let make: ReturnType<typeof Bun.spawn>
let output = ''
let urls: string[] = []
let databasePort = 0
let clusterDir = ''

/** Reads make's stdout until `done` says the text so far is enough, within a bound. */
async function readUntil(stream: ReadableStream<Uint8Array>, done: (text: string) => boolean): Promise<void> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  const deadline = Date.now() + 120_000
  try {
    while (!done(output)) {
      if (Date.now() > deadline) throw new Error(`make run-postgres did not get ready; so far:\n${output}`)
      const read = await reader.read()
      if (read.done) throw new Error(`make run-postgres ended; its output:\n${output}`)
      output += decoder.decode(read.value, { stream: true })
    }
  } finally {
    reader.releaseLock()
  }
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

beforeAll(async () => {
  make = Bun.spawn(['make', '--no-print-directory', 'run-postgres'], {
    cwd: ROOT,
    env: userEnv({ PORTS: '0 0' }),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
    detached: true,
  })
  await readUntil(make.stdout as ReadableStream<Uint8Array>, (text) => text.includes('Ctrl-C stops both replicas'))
  urls = [...output.matchAll(/^replica-\d: {2}(http:\/\/localhost:\d+)/gm)].map((m) => m[1] as string)
  const database =
    /^PostgreSQL: postgres:\/\/\S+:(\d+)\/\S+ \(a throwaway cluster in (\S+), removed on Ctrl-C\)$/m.exec(output)
  databasePort = Number(database?.[1])
  clusterDir = database?.[2] ?? ''
}, 180_000)
afterAll(() => {
  // Only when a test failed before Ctrl-C was sent.
  if (make.exitCode === null && make.signalCode === null && make.pid !== undefined) process.kill(-make.pid, 'SIGINT')
})

describe('make run-postgres', () => {
  it('when it is ready, then it names two replicas and the throwaway database', () => {
    expect(urls).toHaveLength(2)
    expect(urls[0]).not.toBe(urls[1])
    expect(databasePort).toBeGreaterThan(0)
    expect(existsSync(clusterDir)).toBe(true)
  })

  it('when a write goes through one replica, then a watch on the other shows it', async () => {
    const [one, two] = urls.map((url) => createClient({ url }))
    const since = (await two?.list({}, { limit: 1 }))?.revision as number
    const stop = new AbortController()
    const events = two?.watch({ since, signal: stop.signal }) as AsyncGenerator<WatchItem>
    const written = await one?.patch('datacenter-1', { metadata: { team: 'payments' } })
    const first = await events.next()
    stop.abort()
    expect(first.value).toEqual({
      type: 'MODIFIED',
      revision: written?.revision,
      config: written?.config,
    })
  })

  it('when a write goes through one replica, then the other reads it back at once', async () => {
    const [one, two] = urls.map((url) => createClient({ url }))
    const written = await one?.patch('datacenter-2', { metadata: { owner: 'newcomer' } })
    const read = await two?.get('datacenter-2')
    expect(read?.config).toEqual(written?.config as Config)
    expect(read?.revision).toBe(written?.revision as number)
  })

  it('when Ctrl-C comes, then both replicas and PostgreSQL stop, and the cluster is removed', async () => {
    process.kill(-(make.pid as number), 'SIGINT')
    await readUntil(make.stdout as ReadableStream<Uint8Array>, (text) => text.includes('its files removed'))
    await make.exited
    // In order: each replica's own shutdown to its end, then PostgreSQL.
    const lines = output.split('\n')
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line))
    const stopping = at(/^stopping the replicas and PostgreSQL$/)
    const removed = at(/^PostgreSQL stopped and its files removed$/)
    expect(stopping).toBeGreaterThan(0)
    for (const replica of ['replica-1', 'replica-2']) {
      const done = at(new RegExp(`^${replica} \\| .*"msg":"shutdown complete"`))
      expect(done).toBeGreaterThan(stopping)
      expect(done).toBeLessThan(removed)
    }
    const ports = [...urls.map((url) => Number(new URL(url).port)), databasePort]
    expect(await Promise.all(ports.map(accepts))).toEqual([false, false, false])
    expect(existsSync(clusterDir)).toBe(false)
  }, 60_000)
})
