/**
 * Watch fan-out across replicas: `replicas` service processes on one PostgreSQL database,
 * `watchers` watch streams spread evenly over them (held by `generators` processes of
 * bench/fanout-client.ts), and writes at a steady rate through the replicas in turn; every event
 * must reach every watcher. Measured per round: the delay from sending a write to each watcher
 * having its event (the write's time travels in the config's metadata), and each replica's CPU
 * time (/proc utime + stime over the writes' window, idle included) per event it delivered.
 *
 * The baseline in the same run: as many bare Bun.serve SSE processes (bench/sse-fanout-baseline.ts),
 * the same watchers, the same rate, each frame POSTed to every process. Rounds alternate the
 * systems, so that they see the same load of a shared machine. Servers and PostgreSQL run on the
 * server core, the generators and the writer on the client core.
 *
 * Run by bench/run.ts, or alone (starts its own PostgreSQL):
 *   bun bench/replica-fanout.ts [watchers=20000] [replicas=4] [rate=5] [seconds=10]
 * FANOUT_ENTRIES=after=src/main.ts,before=/other/checkout/src/main.ts compares service builds.
 */
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'
import { cpuMs, freePort, type Started, startPinned } from './processes.ts'
import { median, num, type Target } from './report.ts'

const CLIENT_CORE = 1
const ROOT = resolve(import.meta.dir, '..')

export interface ReplicaFanoutPlan {
  replicas: number
  watchers: number
  generators: number
  /** Writes per second, sent `burst` at a time. */
  rate: number
  burst: number
  seconds: number
  rounds: number
  /** Service builds to compare, by name (default: this checkout's sources as `service`). */
  entries: Record<string, string>
}

export interface FanoutRound {
  system: string
  writes: number
  /** Writes answered with an error (an overloaded replica answers 503). */
  failedWrites: number
  /** From sending each PUT to its answer, whatever it answered (the baseline's: every POST of its frame). */
  writeMs: { p50: number; p99: number; max: number }
  /** Watch starts refused (503) and tried again by the generator. */
  refusedStarts: number
  /** Events that reached the watchers: each must reach every one. */
  events: number
  delivered: number
  expected: number
  deliveryMs: { p50: number; p99: number; max: number }
  /** Per replica: its CPU time over the writes' window (idle included) per event delivered by it. */
  cpuUsPerEvent: number[]
  /** Per replica, measured for the second before the writes (heart-beats are off). */
  idleCpuMsPerSecond: number[]
  /** The generators' CPU, for the record: the client side shares the machine. */
  generatorCpuUsPerEvent: number
}

export interface ReplicaFanoutResult {
  plan: ReplicaFanoutPlan
  rounds: FanoutRound[]
  /** Per system, medians over its rounds; `cpuUsPerEvent` is the busiest replica's. */
  summary: Record<string, { deliveryMsP50: number; deliveryMsP99: number; cpuUsPerEvent: number }>
}

interface Context {
  databaseUrl: string
  workDir: string
  log: (message: string) => void
}

const now = () => performance.timeOrigin + performance.now()

export async function replicaFanout(plan: ReplicaFanoutPlan, context: Context): Promise<ReplicaFanoutResult> {
  const systems = [...Object.keys(plan.entries), 'baseline']
  const rounds: FanoutRound[] = []
  for (let round = 0; round < plan.rounds; round++) {
    for (const system of systems) {
      context.log(`replica fan-out round ${round + 1}: ${system}`)
      rounds.push(await runRound(plan, context, system))
    }
  }
  const summary: ReplicaFanoutResult['summary'] = {}
  for (const system of systems) {
    const own = rounds.filter((r) => r.system === system)
    summary[system] = {
      deliveryMsP50: median(own.map((r) => r.deliveryMs.p50)),
      deliveryMsP99: median(own.map((r) => r.deliveryMs.p99)),
      cpuUsPerEvent: median(own.map((r) => Math.max(...r.cpuUsPerEvent))),
    }
  }
  return { plan, rounds, summary }
}

/** Issue 25's goals for the service (the baseline's numbers say what the machine allowed). */
export function replicaFanoutTargets(result: ReplicaFanoutResult | undefined): Target[] {
  const service = result?.summary.service
  const baseline = result?.summary.baseline
  const scale = result ? `${num(result.plan.watchers)} watchers, ${result.plan.replicas} replicas` : 'not run'
  return [
    {
      name: `watch across replicas: delivery p99 (${scale})`,
      goal: '< 200 ms',
      measured: service
        ? `${num(service.deliveryMsP99, 1)} ms (baseline ${num(baseline?.deliveryMsP99 ?? Number.NaN, 1)} ms)`
        : 'not run',
      met: service ? service.deliveryMsP99 < 200 : null,
    },
    {
      name: `watch across replicas: CPU per delivered event, busiest replica (${scale})`,
      goal: '<= 5 us',
      measured: service
        ? `${num(service.cpuUsPerEvent, 2)} us (baseline ${num(baseline?.cpuUsPerEvent ?? Number.NaN, 2)} us)`
        : 'not run',
      met: service ? service.cpuUsPerEvent <= 5 : null,
    },
  ]
}

async function startServers(plan: ReplicaFanoutPlan, context: Context, system: string): Promise<Started[]> {
  const servers: Started[] = []
  try {
    for (let i = 0; i < plan.replicas; i++) {
      const port = freePort()
      const logFile = join(context.workDir, `fanout-${system}-${i}.log`)
      const entry = plan.entries[system]
      servers.push(
        await startPinned(
          entry === undefined
            ? {
                command: [process.execPath, join(import.meta.dir, 'sse-fanout-baseline.ts'), String(port)],
                port,
                readyPaths: ['/readyz'],
                logFile,
              }
            : {
                command: [process.execPath, entry],
                cwd: context.workDir,
                env: {
                  SERVE_PORT: String(port),
                  DATABASE_URL: context.databaseUrl,
                  SEED: 'false',
                  LOG_LEVEL: 'info',
                  // Heart-beats would be CPU of their own in the measured window.
                  WATCH_HEARTBEAT_MS: '600000',
                },
                port,
                readyPaths: ['/readyz'],
                logFile,
              },
        ),
      )
    }
  } catch (error) {
    for (const server of servers) await server.stop()
    throw error
  }
  return servers
}

interface Generator {
  process: Subprocess<'pipe', 'pipe', 'inherit'>
  lines: AsyncIterator<string>
}

async function startGenerators(plan: ReplicaFanoutPlan, servers: Started[], path: string): Promise<Generator[]> {
  const generators: Generator[] = []
  for (let g = 0; g < plan.generators; g++) {
    const count = Math.floor(plan.watchers / plan.generators) + (g < plan.watchers % plan.generators ? 1 : 0)
    // Each generator starts at another replica, so that the watchers stay spread evenly.
    const urls = servers.map((_, i) => (servers[(i + g) % servers.length] as Started).url)
    const child = Bun.spawn(
      [
        'taskset',
        '-c',
        String(CLIENT_CORE),
        process.execPath,
        join(import.meta.dir, 'fanout-client.ts'),
        path,
        String(count),
        ...urls,
      ],
      { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' },
    )
    generators.push({ process: child, lines: linesOf(child.stdout) })
  }
  for (const generator of generators) {
    const line = await generator.lines.next()
    if (!String(line.value).startsWith('ready'))
      throw new Error(`a fan-out generator failed to start (${line.value ?? 'exited'})`)
  }
  return generators
}

async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = ''
  for await (const text of stream.pipeThrough(
    new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>,
  )) {
    buffered += text
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      yield buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
    }
  }
}

async function runRound(plan: ReplicaFanoutPlan, context: Context, system: string): Promise<FanoutRound> {
  const isBaseline = plan.entries[system] === undefined
  const servers = await startServers(plan, context, system)
  let generators: Generator[] = []
  try {
    generators = await startGenerators(plan, servers, isBaseline ? '/events' : '/configs?watch=true')
    const pids = servers.map((s) => s.process.pid)
    // The idle rate is only recorded: taken off, it swallowed whole replicas' CPU on a machine
    // so loaded that the replicas were still busy with the starts in that second.
    const idleFrom = pids.map(cpuMs)
    await Bun.sleep(1000)
    const idleCpuMsPerSecond = pids.map((pid, i) => cpuMs(pid) - (idleFrom[i] as number))
    const before = pids.map(cpuMs)
    const generatorsBefore = generators.map((g) => cpuMs(g.process.pid))

    const writes = Math.max(plan.burst, Math.round(plan.rate * plan.seconds))
    const { last, failures, writeMs } = await writeSteadily(plan, servers, writes, isBaseline)
    // The generators' CPU until now from /proc; after `end` they count their own (then exit).
    const generatorsMs = generators.reduce(
      (sum, g, i) => sum + cpuMs(g.process.pid) - (generatorsBefore[i] as number),
      0,
    )
    for (const generator of generators) {
      generator.process.stdin.write(`end ${last}\n`)
      generator.process.stdin.flush()
    }
    const reports: {
      refused: number
      cpuUs: number
      events: number
      behind: number
      unknown: number
      revisions: number[]
      delays: number[]
    }[] = []
    for (const generator of generators) {
      const line = await generator.lines.next()
      if (typeof line.value !== 'string') throw new Error('a fan-out generator ended without a report')
      reports.push(JSON.parse(line.value))
    }
    const delivered = reports.reduce((sum, r) => sum + r.events, 0)
    // The watchers are spread evenly and each gets every event.
    const perReplica = delivered / servers.length
    const cpuUsPerEvent = pids.map((pid, i) => {
      const spent = cpuMs(pid) - (before[i] as number)
      return Math.round((spent * 1000 * 100) / perReplica) / 100
    })
    const generatorMs = generatorsMs + reports.reduce((sum, r) => sum + r.cpuUs / 1000, 0)
    const delays = reports.flatMap((r) => r.delays).sort((a, b) => a - b)
    const quantile = (q: number, of = delays) => of[Math.min(of.length - 1, Math.floor(q * of.length))] ?? 0
    writeMs.sort((a, b) => a - b)
    // A write that answered 503 may have committed all the same: count the events that exist.
    const events = new Set(reports.flatMap((r) => r.revisions)).size
    const expected = events * plan.watchers
    if (delivered !== expected) {
      const behind = reports.reduce((sum, r) => sum + r.behind, 0)
      throw new Error(`${system}: ${delivered} of ${expected} events delivered (${behind} watchers behind the last)`)
    }
    if (failures.length > 0) context.log(`  ${failures.length} of ${writes} writes failed; first: ${failures[0]}`)
    const round = {
      system,
      writes,
      failedWrites: failures.length,
      writeMs: { p50: quantile(0.5, writeMs), p99: quantile(0.99, writeMs), max: writeMs.at(-1) ?? 0 },
      refusedStarts: reports.reduce((sum, r) => sum + r.refused, 0),
      events,
      delivered,
      expected,
      deliveryMs: { p50: quantile(0.5), p99: quantile(0.99), max: delays.at(-1) ?? 0 },
      cpuUsPerEvent,
      idleCpuMsPerSecond,
      generatorCpuUsPerEvent: Math.round((generatorMs * 1000 * 100) / delivered) / 100,
    }
    context.log(
      `  write p50 ${round.writeMs.p50} ms, p99 ${round.writeMs.p99} ms, max ${round.writeMs.max} ms; ` +
        `${events} events to ${plan.watchers} watchers: delivery p50 ${round.deliveryMs.p50} ms, p99 ${round.deliveryMs.p99} ms; ` +
        `CPU per delivered event per replica ${cpuUsPerEvent.join(', ')} us (generators ${round.generatorCpuUsPerEvent} us)`,
    )
    return round
  } finally {
    for (const generator of generators) generator.process.kill()
    for (const server of servers) await server.stop()
  }
}

/**
 * Sends `writes` writes, `burst` at a time at `rate` a second (each burst on schedule, not after
 * the previous answered); returns the last revision. The service's go through the replicas in
 * turn; the baseline's frame is POSTed to every process, as PostgreSQL tells every replica.
 */
async function writeSteadily(plan: ReplicaFanoutPlan, servers: Started[], writes: number, isBaseline: boolean) {
  const intervalMs = (1000 * plan.burst) / plan.rate
  const begin = performance.now()
  const pending: Promise<number>[] = []
  const writeMs: number[] = []
  const answered =
    <T>(sent: number) =>
    (result: T) => {
      writeMs.push(Math.round(performance.now() - sent))
      return result
    }
  // A failure is reported once all were sent (not as an unhandled rejection meanwhile).
  const failures: string[] = []
  const chains: Promise<void>[] = []
  for (let n = 0; n < writes; n++) {
    if (n % plan.burst === 0) {
      const due = begin + (n / plan.burst) * intervalMs
      const wait = due - performance.now()
      if (wait > 0) await Bun.sleep(wait)
    }
    const metadata = { team: 'fanout', n, sentAt: now() }
    if (isBaseline) {
      const revision = n + 1
      const config = { dcname: `fanout-${n % 8}`, metadata }
      const frame = `event: MODIFIED\nid: ${revision}\ndata: ${JSON.stringify({ type: 'MODIFIED', revision, config })}\n\n`
      // In order per process, as a replica hears of the changes: one after the other.
      const published = servers.map((s, i) => {
        const next = (chains[i] ?? Promise.resolve()).then(() =>
          fetch(`${s.url}/publish`, { method: 'POST', body: frame }),
        )
        chains[i] = next.then(
          () => {},
          () => {},
        )
        return next
      })
      pending.push(
        Promise.all(published)
          .then(answered(performance.now()))
          .then(
            () => revision,
            (error) => {
              failures.push(String(error))
              return 0
            },
          ),
      )
      continue
    }
    const server = servers[n % servers.length] as Started
    pending.push(
      fetch(`${server.url}/configs/fanout-${n % 8}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metadata }),
      })
        .then(answered(performance.now()))
        .then(async (response) => {
          const body = await response.text()
          if (response.status >= 300) throw new Error(`PUT answered ${response.status}: ${body}`)
          return Number(response.headers.get('etag')?.replace(/"/g, ''))
        })
        .catch((error) => {
          failures.push(String(error))
          return 0
        }),
    )
  }
  const revisions = (await Promise.all(pending)).filter((r) => r > 0)
  if (revisions.length === 0) throw new Error(`all ${writes} writes failed; first: ${failures[0]}`)
  return { last: Math.max(...revisions), failures, writeMs }
}

if (import.meta.main) {
  const { startPostgres } = await import('./postgres.ts')
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const [watchers = '20000', replicas = '4', rate = '5', seconds = '10'] = process.argv.slice(2)
  const entries = Object.fromEntries(
    (process.env.FANOUT_ENTRIES ?? `service=${join(ROOT, 'src/main.ts')}`).split(',').map((pair) => {
      const [name = '', path = ''] = pair.split('=')
      return [name, resolve(path)]
    }),
  )
  const workDir = mkdtempSync(join(tmpdir(), 'replica-fanout-'))
  const pg = await startPostgres()
  try {
    const result = await replicaFanout(
      {
        replicas: Number(replicas),
        watchers: Number(watchers),
        generators: Number(process.env.FANOUT_GENERATORS ?? 2),
        rate: Number(rate),
        burst: Number(process.env.FANOUT_BURST ?? 1),
        seconds: Number(seconds),
        rounds: Number(process.env.FANOUT_ROUNDS ?? 1),
        entries,
      },
      {
        databaseUrl: await pg.createDatabase('bench_fanout'),
        workDir,
        log: (message) => console.error(`[fanout ${new Date().toISOString().slice(11, 19)}] ${message}`),
      },
    )
    console.log(JSON.stringify(result))
  } finally {
    await pg.stop()
    if (process.env.BENCH_KEEP !== '1') rmSync(workDir, { recursive: true, force: true })
  }
}
