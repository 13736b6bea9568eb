/**
 * Watch replay within a watcher's byte budget, over real HTTP, written once and run on each store
 * (watch.test.ts on SQLite, watch-postgres.test.ts on PostgreSQL; TEST_RUNTIME=deno serves from
 * Deno): a history of 2,000 events of 4 kB, clients that read nothing (StalledWatch) and one
 * that reads. What the service holds is read from its own accounting (/metrics), not from RSS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { client, revisionOf, type Target } from '../support/http.ts'
import { watch } from '../support/sse.ts'
import { StalledWatch } from '../support/stalled-watch.ts'
import { closeStreams, serve, track } from './watch-suite.ts'

const BUDGET = 64 * 1024
/**
 * 2,000 frames of 4 kB are about twice what Linux lets one socket buffer by default (tcp_wmem's
 * 4 MiB on the sending side; a receiver that reads nothing never grows its window): a replay
 * to a client that reads nothing has to wait in the service.
 */
const HISTORY = 2000
const BODY = 'x'.repeat(4096)
const WRITERS = 16
/** Ten minutes: longer than any of these tests, so that `patient` never finds a client stalled. */
const PATIENT_HEARTBEAT_MS = '600000'

interface WatchMetrics {
  held: number
  connected: number
  dropped: number
  /** Pages of history the store was asked for (one per changesAfter). */
  pages: number
}

async function watchMetrics(target: Target, backend: string): Promise<WatchMetrics> {
  const families = parseExposition(await (await fetch(`${target.base}/metrics`)).text())
  const pages = { operation: 'changes_after', backend }
  return {
    held: sampleValue(families, 'watchers_held_bytes') ?? Number.NaN,
    connected: sampleValue(families, 'watchers_connected') ?? Number.NaN,
    dropped: sampleValue(families, 'watchers_dropped_total') ?? Number.NaN,
    pages: sampleValue(families, 'store_operation_duration_seconds_count', pages) ?? 0,
  }
}

/**
 * Polls /metrics until `done` holds for a sample; every sample goes to `seen`. The timeout is a
 * stop for a state that never comes, under the 60 s test timeout, not a measure.
 */
async function untilMetrics(
  target: Target,
  backend: string,
  done: (sample: WatchMetrics) => boolean,
  seen: WatchMetrics[] = [],
  timeoutMs = 45_000,
): Promise<WatchMetrics> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const sample = await watchMetrics(target, backend)
    seen.push(sample)
    if (done(sample)) return sample
    if (Date.now() > deadline) throw new Error(`metrics never got there; last: ${JSON.stringify(sample)}`)
    await Bun.sleep(20)
  }
}

/** Writes the history, WRITERS at a time; its revisions in order. */
async function writeHistory(target: Target): Promise<number[]> {
  const request = client(target)
  const revisions: number[] = []
  for (let i = 0; i < HISTORY; i += WRITERS) {
    const replies = await Promise.all(
      Array.from({ length: Math.min(WRITERS, HISTORY - i) }, (_, j) =>
        request('PUT', `/configs/replay-${i + j}`, { body: { metadata: { body: BODY } } }),
      ),
    )
    for (const reply of replies) {
      if (reply.status >= 300) throw new Error(`a history write answered ${reply.status}: ${reply.text}`)
      revisions.push(revisionOf(reply))
    }
  }
  return revisions.sort((a, b) => a - b)
}

/** `newDatabase` gives each server its own empty database (undefined: a fresh SQLite file). */
export function describeWatchReplay(backend: string, newDatabase: () => Promise<string | undefined>) {
  describe(`watch replay within a byte budget (${backend})`, () => {
    // The heart-beat is also the clock that tells a client reading nothing: `quick` drops such a
    // client within a fraction of a second; `patient` has one out of the tests' reach, so that a
    // reader held up by a busy machine, and stalled clients that must stay open however long
    // the others take to fill their sockets, are never dropped (with the default 15 s, the first
    // of 12 stalled clients was dropped at load 25 before the last one filled up).
    let quick: Target
    let patient: Target
    let history: number[] = []

    beforeAll(async () => {
      const budget = { WATCH_BUFFER_BYTES: String(BUDGET) }
      ;[quick, patient] = await Promise.all([
        serve({ env: { ...budget, WATCH_HEARTBEAT_MS: '100' }, databaseUrl: await newDatabase() }),
        serve({ env: { ...budget, WATCH_HEARTBEAT_MS: PATIENT_HEARTBEAT_MS }, databaseUrl: await newDatabase() }),
      ])
      const [onQuick, onPatient] = await Promise.all([writeHistory(quick), writeHistory(patient)])
      // Each store was empty: both histories are the same revisions.
      expect(onPatient).toEqual(onQuick)
      history = onQuick
    }, 180_000)
    afterAll(async () => {
      closeStreams()
      await Promise.all([quick?.close(), patient?.close()])
    })

    it('when a client reads nothing of a replay, then the service holds at most the budget for it and drops it with a final ERROR event', async () => {
      const before = await watchMetrics(quick, backend)
      const stalled = await StalledWatch.open(quick.base, 'since=0')
      const seen: WatchMetrics[] = []
      await untilMetrics(quick, backend, (sample) => sample.dropped > before.dropped, seen)
      expect(Math.max(...seen.map((sample) => sample.held))).toBeLessThanOrEqual(BUDGET)

      const messages = await stalled.readToEnd()
      const last = messages.at(-1)
      expect(last?.event).toBe('ERROR')
      const problem = JSON.parse(last?.data ?? '{}')
      expect(problem.type).toContain('watch-fell-behind')
      const revisions = messages.slice(0, -1).map((message) => Number(message.id))
      expect(revisions.length).toBeLessThan(HISTORY)
      expect(revisions).toEqual(history.slice(0, revisions.length))
      expect(problem.detail).toContain(`since=${revisions.at(-1)}`)
    }, 60_000)

    it('when 12 clients read nothing of a replay, then /healthz answers while they stay open, each held to the budget', async () => {
      const stalled = await Promise.all(Array.from({ length: 12 }, () => StalledWatch.open(patient.base, 'since=0')))
      try {
        // A replay reads on until it holds more than half its budget: past that, all 12 wait.
        // Getting there moves 12 socket buffers' worth of history: the stop is far out.
        const waiting = await untilMetrics(patient, backend, (sample) => sample.held > 6 * BUDGET, [], 100_000)
        expect(waiting.held).toBeLessThanOrEqual(12 * BUDGET)
        const health = await fetch(`${patient.base}/healthz`)
        expect(health.status).toBe(200)
        const after = await watchMetrics(patient, backend)
        expect([after.connected, after.held <= 12 * BUDGET]).toEqual([12, true])
      } finally {
        for (const watch of stalled) watch.close()
      }
    }, 120_000)

    it('when a client reads a replay, then it gets every event once and in order, read in pages, and live events follow', async () => {
      // The stalled clients of the test before may still be going away.
      await untilMetrics(patient, backend, (sample) => sample.connected === 0)
      const before = await watchMetrics(patient, backend)
      const stream = await track(watch(patient.base, 'since=0'))
      const events = await stream.events(HISTORY, 60_000)
      expect(events.map((event) => event.revision)).toEqual(history)
      const live = await client(patient)('PUT', '/configs/after-the-replay', { body: { metadata: {} } })
      const [next] = await stream.events(1)
      expect(next?.revision).toBe(revisionOf(live))
      const after = await watchMetrics(patient, backend)
      // 8 MB of history in pages of at most the 64 kB budget.
      expect(after.pages - before.pages).toBeGreaterThan((HISTORY * BODY.length) / BUDGET)
      closeStreams()
    }, 90_000)
  })
}
