/**
 * The throwaway PostgreSQL server of BENCH_STORE=postgres: the tests' own (test/support/postgres.ts,
 * fsync on), with the postmaster and its processes moved to the server core like the service.
 */
import { readdirSync, readFileSync } from 'node:fs'
import postgres from 'postgres'
import { startPostgres as startTestPostgres } from '../test/support/postgres.ts'
import { SERVER_CORE } from './processes.ts'

export interface Postgres {
  createDatabase(name: string): Promise<string>
  stop(): Promise<void>
}

export async function startPostgres(): Promise<Postgres> {
  const server = await startTestPostgres()
  const sql = postgres(server.url(), { max: 1, onnotice: () => {}, fetch_types: false })
  try {
    const [row] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`
    const postmaster = parentOf(row?.pid ?? 0)
    // Backends forked from here on inherit the postmaster's affinity.
    for (const pid of [postmaster, ...childrenOf(postmaster)]) {
      await Bun.$`taskset -cp ${SERVER_CORE} ${pid}`.quiet()
    }
  } finally {
    await sql.end()
  }
  return {
    createDatabase: (name) => server.createDatabase(name),
    stop: () => server.dispose(),
  }
}

function parentOf(pid: number): number {
  // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
}

function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return parentOf(pid) === parent
      } catch {
        return false
      }
    })
}
