/**
 * The real service (buildService, as main.ts wires it) in-process on a SQLite file (or the
 * DATABASE_URL given), with the rollout driver's clock in the test's hands: a bake ends when the
 * test moves the clock past it, never by waiting. The driver polls every few ms, so a step is a
 * condition to wait for. With `listen`, the app is also served on a local port, as main.ts
 * serves it, for processes (configctl agents) to reach.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Server } from 'bun'
import { buildService } from '../../src/service.ts'
import { loadSettings } from '../../src/settings.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { tempDir } from '../support/server.ts'
import { waitFor } from '../support/wait.ts'

export type Json = Record<string, unknown>

export interface Clock {
  now(): number
  advance(ms: number): void
}

export function testClock(): Clock {
  let now = Date.parse('2026-01-01T00:00:00Z')
  return { now: () => now, advance: (ms) => (now += ms) }
}

/** Bun.serve's idle timeout, lifted for each watch stream as main.ts does. */
const IDLE_TIMEOUT_S = 10

export async function rolloutService(
  env: Record<string, string> = {},
  options: { dir?: string; clock?: Clock; listen?: boolean } = {},
) {
  const dir = options.dir ?? tempDir('rollouts-')
  const clock = options.clock ?? testClock()
  const lines: Json[] = []
  let server: Server<undefined> | undefined
  const service = await buildService(
    loadSettings({ DATABASE_URL: `sqlite:${join(dir, 'configs.db')}`, SEED: 'false', ...env }),
    { openSqlite: openBunSqlite },
    {
      logSink: { write: (line) => void lines.push(JSON.parse(line) as Json), flush: (done) => done?.() },
      rollouts: { now: clock.now, pollMs: 10 },
      // What main.ts gives Bun's server, when there is one; app.handle alone needs neither.
      ...(options.listen && {
        holdWatchOpen: (request: Request) => {
          server?.timeout(request, 0)
          return () => server?.timeout(request, IDLE_TIMEOUT_S)
        },
        watchStreamKind: 'direct' as const,
      }),
    },
  )
  if (options.listen) {
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: service.app.fetch, idleTimeout: IDLE_TIMEOUT_S })
  }
  const request = (path: string, init: RequestInit = {}) =>
    service.app.handle(new Request(`http://localhost${path}`, init))
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } }
    if (body !== undefined) {
      init.body = JSON.stringify(body)
      init.headers = { ...headers, 'content-type': 'application/json' }
    }
    const response = await request(path, init)
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Json }
  }
  const rollout = async (id: string) => (await send('GET', `/rollouts/${id}`)).body
  /** Waits until the rollout satisfies `condition`; the failure names its status and reason. */
  const until = async (id: string, condition: (r: Json) => boolean, what: string) => {
    let last: Json = {}
    await waitFor(
      async () => {
        last = await rollout(id)
        return condition(last)
      },
      30_000,
      () => `${what} (the rollout is ${last.status}, wave ${last.wave}: ${last.reason ?? ''})`,
    )
    return last
  }
  return {
    service,
    /** The served app's address (with `listen`). */
    url: server ? `http://127.0.0.1:${server.port}` : '',
    dir,
    clock,
    lines,
    request,
    send,
    rollout,
    until,
    /** Stops the driver and closes the stores; `keep` leaves the file for a restart. */
    async close(keep = false) {
      server?.stop(true)
      service.access.close()
      await service.rollouts.close()
      await service.store.close()
      if (!keep) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Creates `count` configs `<prefix>000`, ... with `replicas: 1`; returns their dcnames. */
export async function createConfigs(
  send: Awaited<ReturnType<typeof rolloutService>>['send'],
  prefix: string,
  count: number,
): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`)
  for (const dcname of names) {
    const { status } = await send('POST', '/configs', { dcname, metadata: { replicas: 1, team: 'checkout' } })
    if (status !== 201) throw new Error(`creating ${dcname} answered ${status}`)
  }
  return names
}
