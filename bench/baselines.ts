/** The durable-write baselines: the disk's own fsync rate and an etcd server on the same disk. */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { WRITE_POOL } from './dataset.ts'
import { freePort, type Started, startPinned } from './processes.ts'
import { LOAD_CORE } from './wrk.ts'

export const PG_BIN = '/usr/lib/postgresql/15/bin'

export interface FsyncRate {
  /** ops/sec for one 8 kB write followed by the sync call, per method. */
  opsPerSec: Record<string, number>
  raw: string
}

/** pg_test_fsync on a file in `dir` (the same filesystem as the databases). */
export async function measureFsync(dir: string, secondsPerTest: number): Promise<FsyncRate> {
  const child = Bun.spawn(
    [
      'taskset',
      '-c',
      String(LOAD_CORE),
      join(PG_BIN, 'pg_test_fsync'),
      '-f',
      join(dir, 'fsync.test'),
      '-s',
      String(secondsPerTest),
    ],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const [raw, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  if (code !== 0) throw new Error(`pg_test_fsync failed (${code}): ${stderr}`)
  // The first section is "one 8kB write": one line per sync method.
  const section = raw.split(/\n\s*\n/).find((block) => /using one 8kB write/.test(block)) ?? ''
  const opsPerSec: Record<string, number> = {}
  for (const match of section.matchAll(/^\s+(\w+)\s+([\d.]+) ops\/sec/gm)) {
    opsPerSec[match[1] as string] = Number(match[2])
  }
  if (!opsPerSec.fdatasync && !opsPerSec.fsync) throw new Error(`pg_test_fsync printed no rate:\n${raw}`)
  return { opsPerSec, raw }
}

export interface Etcd extends Started {
  /** Puts `WRITE_POOL` keys so that "pool" overwrites existing keys, as PUT does. */
  fillPool(prefix: string, value: string): Promise<void>
}

export async function startEtcd(dir: string, logFile: string): Promise<Etcd> {
  const dataDir = join(dir, 'etcd')
  mkdirSync(dataDir, { recursive: true })
  const port = freePort()
  const peer = `http://127.0.0.1:${freePort()}`
  const client = `http://127.0.0.1:${port}`
  const started = await startPinned({
    command: [
      'etcd',
      '--name=bench',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=bench=${peer}`,
      '--log-level=error',
      '--quota-backend-bytes=8589934592',
    ],
    port,
    readyPaths: ['/health'],
    logFile,
  })
  const b64 = (s: string) => Buffer.from(s).toString('base64')
  return {
    ...started,
    async fillPool(prefix, value) {
      await Promise.all(
        Array.from({ length: WRITE_POOL }, async (_, i) => {
          const response = await fetch(`${client}/v3/kv/put`, {
            method: 'POST',
            body: JSON.stringify({ key: b64(`configs/${prefix}-${i + 1}`), value: b64(value) }),
          })
          if (response.status !== 200) throw new Error(`etcd put: ${response.status} ${await response.text()}`)
          await response.arrayBuffer()
        }),
      )
    },
  }
}
