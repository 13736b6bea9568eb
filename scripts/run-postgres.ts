/**
 * `make run-postgres`: a throwaway PostgreSQL and two replicas of the service on it, to see what
 * replicas do (a watch on one shows the writes made through the other; a write through one is
 * read back at once through the other). The cluster is the tests' (test/support/postgres.ts:
 * initdb into a temp dir, as an unprivileged user when run as root, on a free port); Ctrl-C
 * stops both replicas, then PostgreSQL, and removes the cluster's files.
 *
 *   PORTS="4999 5000"   the replicas' SERVE_PORTs (0 picks a free one)
 *
 * Each replica's log lines are printed as they come, prefixed with its name. The replicas run
 * in their own process groups, so that the terminal's Ctrl-C reaches them once, from here,
 * after which each shuts down in its usual order.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { postgresBin, startPostgres } from '../test/support/postgres.ts'

const ROOT = new URL('..', import.meta.url).pathname
const ports = (process.env.PORTS ?? '4999 5000').trim().split(/\s+/)
if (ports.length !== 2 || !ports.every((port) => /^\d{1,5}$/.test(port))) {
  console.error(`error: PORTS must be two ports, e.g. PORTS="4999 5000" (got ${JSON.stringify(process.env.PORTS)})`)
  process.exit(2)
}
if (postgresBin() === undefined) {
  console.error(
    'error: make run-postgres needs the PostgreSQL server programs (initdb, pg_ctl): on Debian or Ubuntu `sudo apt-get install postgresql`, on macOS `brew install postgresql`, or set PG_BIN to the folder that holds them',
  )
  process.exit(1)
}

const cluster = await startPostgres()
const databaseUrl = await cluster.createDatabase('config_service')
const replicas: ChildProcess[] = []
let stopping = false

/** Stops the replicas (SIGTERM, each once), then PostgreSQL; removes the cluster. */
async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {})
  stopping = true
  console.log('stopping the replicas and PostgreSQL')
  await Promise.all(
    replicas.map(
      (replica) =>
        new Promise<void>((resolve) => {
          if (replica.exitCode !== null || replica.signalCode !== null) return resolve()
          replica.once('exit', () => resolve())
          replica.kill('SIGTERM')
        }),
    ),
  )
  await cluster.dispose()
  console.log('PostgreSQL stopped and its files removed')
  process.exit(code)
}
process.on('SIGINT', () => void stopAll(0))
process.on('SIGTERM', () => void stopAll(0))

/** Starts one replica and resolves to the port it listens on, once it does. */
function startReplica(name: string, port: string): Promise<number> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATABASE_URL: databaseUrl, SERVE_PORT: port },
  })
  replicas.push(child)
  return new Promise((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        console.log(`${name} | ${line}`)
        if (line.includes('"msg":"listening"')) resolve((JSON.parse(line) as { port: number }).port)
      })
    }
    child.once('exit', (code, signal) => {
      reject(new Error(`${name} exited (${signal ?? code}) before listening`))
      if (!stopping) {
        console.error(`error: ${name} exited (${signal ?? code}); stopping the rest`)
        void stopAll(1)
      }
    })
  })
}

try {
  // One after the other: the first seeds the new database, the second finds it seeded.
  const first = await startReplica('replica-1', ports[0] as string)
  const second = await startReplica('replica-2', ports[1] as string)
  console.log(
    [
      '',
      `PostgreSQL: ${databaseUrl} (a throwaway cluster in ${cluster.dir}, removed on Ctrl-C)`,
      `replica-1:  http://localhost:${first}   (console: http://localhost:${first}/ui)`,
      `replica-2:  http://localhost:${second}   (console: http://localhost:${second}/ui)`,
      '',
      'Watch through one replica and write through the other, in two more terminals:',
      `  bin/configctl --url http://localhost:${second} watch`,
      `  curl -s -X PATCH localhost:${first}/configs/datacenter-1 -H 'content-type: application/merge-patch+json' -d '{"metadata":{"team":"payments"}}'`,
      `  curl -s localhost:${second}/configs/datacenter-1     # the write, read back through the other replica`,
      'Ctrl-C stops both replicas and PostgreSQL.',
      '',
    ].join('\n'),
  )
} catch (error) {
  console.error(`error: ${(error as Error).message}`)
  await stopAll(1)
}
