/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temp dir, serve on a free port on
 * 127.0.0.1 (and a unix socket in the same dir), stop and remove everything afterwards.
 * A test run shares one cluster (`sharedPostgres`, a database per test or file); only a file that
 * stops or crashes the cluster itself starts one of its own (`startPostgres`).
 * PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to an
 * unprivileged OS user (`postgres` when Debian's package created it, else `nobody`).
 * Binaries come from PG_BIN, else the newest /usr/lib/postgresql/<version>/bin, else the initdb on PATH;
 * test/support/ensure-postgres.sh installs them (`make test` runs it first).
 */
import { spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import { tempDir } from './server.ts'

export interface PostgresServer {
  port: number
  /** The folder of the cluster's files (data, socket, log); dispose removes it. */
  dir: string
  /** Connection URL as the superuser `postgres` over TCP. */
  url(database?: string): string
  /**
   * Creates a new, empty database and returns its URL. Tests leave theirs in place: dropping
   * one costs a checkpoint, and the whole cluster is removed at the end anyway.
   */
  createDatabase(prefix?: string): Promise<string>
  /** A new superuser role (to tell one client's sessions from another's); returns its name. */
  createRole(prefix?: string): Promise<string>
  /** Kills every session of `role`, as a network cut or a restarted pooler would. */
  terminateSessions(role: string): Promise<void>
  /** Bars `role` from connecting (and kills its sessions), or lets it in again. */
  lockOut(role: string, locked: boolean): Promise<void>
  /** pg_ctl stop: `fast` aborts open sessions, `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): void
  /** Starts the stopped cluster again on the same port. */
  start(): void
  running(): boolean
  /** Stops the cluster (if running) and removes its files. */
  dispose(): Promise<void>
  log(): string
}

const START_TIMEOUT_S = 30

/**
 * What a test file may do with the run's shared cluster: make its own databases and roles, cut
 * its own roles off. Stopping or restarting it is not among them: that would pull the cluster
 * out from under the files after it, so a file that does it starts its own (`startPostgres`).
 */
export type SharedPostgres = Omit<PostgresServer, 'stop' | 'start' | 'running' | 'dispose'>

let shared: Promise<PostgresServer> | undefined

/**
 * The cluster of this test run: `bun test` runs every file in one process, so the first file
 * that asks starts it and the others reuse it; test/support/test-run.ts removes it once every
 * file has run. An initdb and a start cost seconds on a busy machine; a database costs a
 * fraction of that.
 */
export function sharedPostgres(): Promise<SharedPostgres> {
  shared ??= startPostgres()
  return shared
}

/** Stops and removes the run's shared cluster, when a file started one. */
export async function disposeSharedPostgres(): Promise<void> {
  const started = shared
  shared = undefined
  const server = await started?.catch(() => undefined)
  await server?.dispose()
}

export function postgresBin(): string | undefined {
  const fromEnv = process.env.PG_BIN
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions[0] !== undefined) return join(root, versions[0], 'bin')
  // Homebrew and most packagings other than Debian's put initdb on PATH.
  const onPath = Bun.which('initdb')
  return onPath === null ? undefined : dirname(onPath)
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin()
  if (!bin) throw new Error('no PostgreSQL binaries found: run test/support/ensure-postgres.sh (make test does)')
  const osUser = clusterUser()
  const dir = tempDir('pg-')
  const dataDir = join(dir, 'data')
  const socketDir = join(dir, 'socket')
  mkdirSync(socketDir)
  if (osUser) for (const path of [dir, socketDir]) chown(path, osUser)
  const logFile = join(dir, 'server.log')

  const run = (program: string, args: string[]) => {
    const command = osUser
      ? ['runuser', '-u', osUser, '--', join(bin, program), ...args]
      : [join(bin, program), ...args]
    const result = spawnSync(command[0] as string, command.slice(1), {
      cwd: dir,
      encoding: 'utf8',
      timeout: (START_TIMEOUT_S + 10) * 1000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' },
    })
    if (result.status !== 0) {
      throw new Error(`${program} ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`)
    }
  }

  let port = 0
  const serverOptions = () =>
    [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${socketDir}`,
      // fsync stays on: durability is part of what the service promises and what we measure.
      '-c fsync=on',
      '-c full_page_writes=off',
      '-c max_connections=200',
      '-c shared_buffers=32MB',
      '-c log_min_messages=warning',
    ].join(' ')
  const start = () =>
    run('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(START_TIMEOUT_S), '-o', serverOptions()])
  let isRunning = false
  const stop = (mode: 'fast' | 'immediate' = 'fast') => {
    if (!isRunning) return
    run('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', String(START_TIMEOUT_S)])
    isRunning = false
  }
  // For a script that dies half-way (bun test emits no exit event: see test/support/test-run.ts).
  const onExit = () => {
    try {
      stop('immediate')
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }

  try {
    run('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ])
    // Another process may take the port between probing and binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      try {
        start()
        break
      } catch (error) {
        if (attempt >= 3) throw error
      }
    }
    isRunning = true
    process.once('exit', onExit)
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`could not start PostgreSQL: ${(error as Error).message}\n${log}`)
  }

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`
  const admin = () => postgres(url(), { max: 1, onnotice: () => {}, fetch_types: false })
  const asAdmin = async (statements: string[]) => {
    const sql = admin()
    try {
      for (const statement of statements) await sql.unsafe(statement)
    } finally {
      await sql.end()
    }
  }
  const terminate = (role: string) =>
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}' AND pid <> pg_backend_pid()`
  let databases = 0
  let roles = 0

  return {
    port,
    dir,
    url,
    async createDatabase(prefix = 'test') {
      const name = `${prefix}_${++databases}`
      await asAdmin([`CREATE DATABASE "${name}"`])
      return url(name)
    },
    async createRole(prefix = 'role') {
      const name = `${prefix}_${++roles}`
      await asAdmin([`CREATE ROLE "${name}" LOGIN SUPERUSER`])
      return name
    },
    terminateSessions: (role) => asAdmin([terminate(role)]),
    lockOut: (role, locked) =>
      asAdmin(locked ? [`ALTER ROLE "${role}" NOLOGIN`, terminate(role)] : [`ALTER ROLE "${role}" LOGIN`]),
    stop,
    start() {
      if (isRunning) return
      start()
      isRunning = true
    },
    running: () => isRunning,
    async dispose() {
      process.removeListener('exit', onExit)
      onExit()
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  }
}

/** The OS user that owns the cluster, or undefined when the tests already run unprivileged. */
function clusterUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined
  const passwd = readFileSync('/etc/passwd', 'utf8')
  return /^postgres:/m.test(passwd) ? 'postgres' : 'nobody'
}

function chown(path: string, user: string): void {
  const id = spawnSync('id', ['-u', user], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' })
  chownSync(path, Number(id.stdout.trim()), Number(gid.stdout.trim()))
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
