/**
 * The two hand-written pieces of the request path against what they replace, in the same run:
 *
 * - log lines: src/observability/stdout-sink.ts (one write per event-loop turn) against pino's
 *   own destination (sonic-boom, synchronous, as `pino()` writes to stdout) and against a plain
 *   writeSync per line; each writes access-line-sized lines to a file, as `make bench` does with
 *   the service's stdout;
 * - request metrics: SeriesHistogram (a series resolved by a key per observation; metrics.ts now
 *   finds each request's series label by label, without joining a key)
 *   against prom-client's Histogram observe(labels, value), three labels.
 *
 * Rounds alternate the contenders; the ratio is per round, CPU time of the process per
 * operation. `bun bench/hot-path.ts` (about 20 s); HOT_PATH_ROUNDS changes the number of rounds.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { Histogram, Registry } from 'prom-client'
import { SeriesHistogram } from '../src/observability/series-histogram.ts'
import { fdSink } from '../src/observability/stdout-sink.ts'

const ROUNDS = Number(process.env.HOT_PATH_ROUNDS ?? 5)
const LINE = `{"level":"info","time":"2026-11-25T16:51:43.138Z","service":"config-service","method":"GET","path":"/configs/dc-000042","route":"/configs/:dcname","status":200,"duration_ms":0.061,"request_id":"1b4e28ba-2d11-4e6f-9c1a-7f3a9c1e5b00","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","msg":"request"}\n`
const LINES = 100_000
const OBSERVATIONS = 1_000_000

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** CPU microseconds per line, writing `perTurn` lines per event-loop turn. */
async function logLines(write: (line: string) => void, perTurn: number, end: () => void): Promise<number> {
  const start = process.cpuUsage()
  for (let i = 0; i < LINES; i += perTurn) {
    for (let j = 0; j < perTurn; j++) write(LINE)
    await nextTurn()
  }
  end()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / LINES
}

type LogContender = (fd: number) => { write(line: string): void; end(): void }

const LOG_CONTENDERS: Record<string, LogContender> = {
  'stdout-sink (one write per turn)': (fd) => {
    const sink = fdSink(fd)
    return { write: sink.write, end: () => sink.flushBeforeExit() }
  },
  'pino destination (sync, per line)': (fd) => {
    const destination = pino.destination({ dest: fd, sync: true })
    return { write: (line) => destination.write(line), end: () => destination.flushSync() }
  },
  'writeSync per line': (fd) => ({ write: (line) => writeSync(fd, line), end: () => {} }),
}

async function benchLogs(perTurn: number): Promise<void> {
  const dir = join(tmpdir(), `hot-path-${process.pid}`)
  const ratios: Record<string, number[]> = {}
  const micros: Record<string, number[]> = {}
  for (let round = 0; round < ROUNDS; round++) {
    const perRound: Record<string, number> = {}
    for (const [name, contender] of Object.entries(LOG_CONTENDERS)) {
      rmSync(dir, { recursive: true, force: true })
      const fd = openSync(`${dir}.log`, 'w')
      const { write, end } = contender(fd)
      perRound[name] = await logLines(write, perTurn, end)
      closeSync(fd)
      append(micros, name, perRound[name])
    }
    const ours = perRound['stdout-sink (one write per turn)'] as number
    for (const name of Object.keys(LOG_CONTENDERS)) append(ratios, name, (perRound[name] as number) / ours)
  }
  rmSync(`${dir}.log`, { force: true })
  report(`log lines, ${perTurn} per event-loop turn (CPU us per line; ratio = contender / stdout-sink)`, micros, ratios)
}

function benchHistogram(): void {
  const combos = ['GET', 'PUT', 'POST'].flatMap((method) =>
    ['/configs', '/configs/:dcname'].flatMap((route) => [200, 404].map((status) => ({ method, route, status }))),
  )
  const ratios: Record<string, number[]> = {}
  const micros: Record<string, number[]> = {}
  const contenders: Record<string, () => (i: number) => void> = {
    'SeriesHistogram, key lookup per call': () => {
      const h = new SeriesHistogram({
        name: 'a',
        help: 'a',
        labelNames: ['method', 'route', 'status'] as const,
        buckets: [0.001, 0.01, 0.1, 1],
        registers: [new Registry()],
      })
      return (i) => {
        const { method, route, status } = combos[i % combos.length] as (typeof combos)[number]
        h.series(`${method} ${route} ${status}`, () => ({ method, route, status })).observe(0.002)
      }
    },
    'prom-client observe(labels, value)': () => {
      const h = new Histogram({
        name: 'a',
        help: 'a',
        labelNames: ['method', 'route', 'status'] as const,
        buckets: [0.001, 0.01, 0.1, 1],
        registers: [new Registry()],
      })
      return (i) => h.observe(combos[i % combos.length] as (typeof combos)[number], 0.002)
    },
  }
  for (let round = 0; round < ROUNDS; round++) {
    const perRound: Record<string, number> = {}
    for (const [name, make] of Object.entries(contenders)) {
      const observe = make()
      const start = process.cpuUsage()
      for (let i = 0; i < OBSERVATIONS; i++) observe(i)
      const used = process.cpuUsage(start)
      perRound[name] = ((used.user + used.system) * 1000) / OBSERVATIONS
      append(micros, name, perRound[name])
    }
    const ours = perRound['SeriesHistogram, key lookup per call'] as number
    for (const name of Object.keys(contenders)) append(ratios, name, (perRound[name] as number) / ours)
  }
  report(
    'histogram observations, 3 labels, 12 series (CPU ns per observation; ratio = contender / SeriesHistogram)',
    micros,
    ratios,
  )
}

function append(record: Record<string, number[]>, name: string, value: number): void {
  const values = record[name] ?? []
  values.push(value)
  record[name] = values
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number

function report(title: string, costs: Record<string, number[]>, ratios: Record<string, number[]>): void {
  console.log(`\n${title}`)
  console.log('| contender | median cost | ratio | ratio per round |')
  console.log('| --- | --- | --- | --- |')
  for (const name of Object.keys(costs)) {
    const perRound = (ratios[name] ?? []).map((r) => r.toFixed(2)).join(' ')
    console.log(
      `| ${name} | ${median(costs[name] ?? []).toFixed(2)} | ${median(ratios[name] ?? []).toFixed(2)}x | ${perRound} |`,
    )
  }
}

console.log(
  `Bun ${Bun.version}, ${ROUNDS} rounds, ${LINES} lines of ${LINE.length} bytes, ${OBSERVATIONS} observations`,
)
await benchLogs(1)
await benchLogs(32)
benchHistogram()
