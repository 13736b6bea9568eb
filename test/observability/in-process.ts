/**
 * The real service, wired by buildService exactly as main.ts wires it, but served in-process
 * through app.handle on an in-memory SQLite store, with its log lines kept in memory.
 */
import type { AccessOptions } from '../../src/open-access.ts'
import { buildService } from '../../src/service.ts'
import { loadSettings } from '../../src/settings.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'

export type LogLine = Record<string, unknown>

/** `access` shortens the tokens-file polling and the JWT key fetching pauses for tests. */
export async function inProcessService(env: Record<string, string> = {}, access?: AccessOptions) {
  const lines: LogLine[] = []
  const raw: string[] = []
  const service = await buildService(
    loadSettings({ DATABASE_URL: 'sqlite::memory:', ...env }),
    { openSqlite: openBunSqlite },
    {
      logSink: {
        write(line) {
          raw.push(line)
          lines.push(JSON.parse(line) as LogLine)
        },
        flush: (done) => done?.(),
      },
      access,
    },
  )
  const request = (path: string, init: RequestInit = {}) =>
    service.app.handle(new Request(`http://localhost${path}`, init))
  return {
    ...service,
    lines,
    raw,
    request,
    /** Access lines (one per request), in order. */
    accessLines: () => lines.filter((line) => line.msg === 'request'),
    async close() {
      service.access.close()
      await service.rollouts.close()
      await service.flushTraces()
      await service.store.close()
    },
  }
}
