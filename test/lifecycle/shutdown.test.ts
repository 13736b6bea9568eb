/**
 * Graceful shutdown of the real Bun process: SIGTERM while slow uploads are in flight.
 * The uploads are slow for real: each body drips to the server in chunks until the service has
 * logged that its listener closed, so they are still being received then. What is checked is
 * the order of what the service logged and the clients saw, and lower bounds (it waited at
 * least the delay); never how fast anything went: the machine is shared and busy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type RunningServer, startServer } from '../support/server.ts'
import {
  accessLinesBetween,
  connectionRefused,
  LONG_WAIT_MS,
  ORDERLY_STEPS,
  type Poll,
  pollReadiness,
  type ShutdownStep,
  shutdownSteps,
  slowUpload,
  untilInFlight,
  untilStep,
  withTimeout,
} from './support.ts'

const DELAY_MS = 1000
const UPLOADS = 3
/** Longer than any test: a shutdown that waits for it never ends within the test's timeout. */
const NEVER_MS = '600000'
/** The largest body limit: a drip (5 kB/s) that lasts as long as the test needs never reaches it. */
const ROOMY_BODY = String(64 * 1024 * 1024)

describe('when SIGTERM arrives while slow uploads are in flight', () => {
  let server: RunningServer
  let signalledAt: number
  let uploads: { status: number; body: string; finishedAt: number }[]
  let polls: Poll[]
  let refusedAt: number
  let exitCode: number
  let steps: ShutdownStep[]

  beforeAll(async () => {
    // The timeout is out of reach: the drain must end because the uploads did, never cut off.
    server = await startServer({
      env: {
        SHUTDOWN_DELAY_MS: String(DELAY_MS),
        SHUTDOWN_TIMEOUT_MS: NEVER_MS,
        MAX_BODY_BYTES: ROOMY_BODY,
      },
    })
    let listenerClosed = () => {}
    const closed = new Promise<void>((resolve) => {
      listenerClosed = resolve
    })
    const pending = Array.from({ length: UPLOADS }, (_, i) => slowUpload(server.url, `slow-${i}`, closed))
    await untilInFlight(server.url, UPLOADS)
    signalledAt = performance.now()
    server.process.kill('SIGTERM')
    // A probe answered before the signal is handled proves nothing: start once it is.
    await untilStep(server, 'not-ready')
    const polling = pollReadiness(server.url, server.port, LONG_WAIT_MS)
    await untilStep(server, 'stop-accepting')
    listenerClosed()
    uploads = await Promise.all(pending)
    ;({ polls, refusedAt } = await polling)
    exitCode = await withTimeout(server.process.exited, LONG_WAIT_MS)
    steps = shutdownSteps(server.lines)
  }, 60_000)

  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  it('then every upload completes with 201', () => {
    expect(uploads.map((u) => u.status)).toEqual(Array(UPLOADS).fill(201))
  })

  it('then the uploads were still in flight when the listener closed, and the drain waited for them', () => {
    const stopAccepting = steps.find((s) => s.step === 'stop-accepting')
    expect(stopAccepting?.elapsedMs).toBeGreaterThanOrEqual(DELAY_MS)
    // In the service's own log: each upload was answered after the listener closed, before the drain ended.
    const answered = accessLinesBetween(server.lines, 'stop-accepting', 'drained')
    expect(answered.filter((line) => line.method === 'POST' && line.path === '/configs').map((l) => l.status)).toEqual(
      Array(UPLOADS).fill(201),
    )
    for (const upload of uploads) expect(upload.finishedAt).toBeGreaterThan(signalledAt + DELAY_MS)
  })

  it('then /readyz answers 503 during the delay, and nothing but 503 once it started', () => {
    const answered = polls.filter((p) => p.status !== undefined)
    expect(answered.length).toBeGreaterThan(0)
    expect(answered.every((p) => p.status === 503)).toBe(true)
    // The service's log agrees: what it answered /readyz between the two steps was 503.
    const duringDelay = accessLinesBetween(server.lines, 'not-ready', 'stop-accepting')
    const readiness = duringDelay.filter((line) => line.path === '/readyz').map((line) => line.status)
    expect(readiness.length).toBeGreaterThan(0)
    expect(new Set(readiness)).toEqual(new Set([503]))
  })

  it('then new connections are refused after the delay', async () => {
    expect(refusedAt - signalledAt).toBeGreaterThanOrEqual(DELAY_MS * 0.9)
    expect(await connectionRefused(server.port)).toBe(true)
  })

  it('then the process exits with 0', () => {
    expect(exitCode).toBe(0)
  })

  it('then the log shows each step, in order', () => {
    expect(steps.map((s) => s.step)).toEqual(ORDERLY_STEPS)
    expect(steps.at(-1)).toMatchObject({ code: 0 })
  })

  it('then the uploads are stored: a new process on the same database serves them', async () => {
    const again = await startServer({ databaseUrl: server.databaseUrl })
    try {
      for (let i = 0; i < UPLOADS; i++) expect((await fetch(`${again.url}/configs/slow-${i}`)).status).toBe(200)
    } finally {
      await again.stop()
    }
  }, 60_000)
})

describe('when requests are still in flight after SHUTDOWN_TIMEOUT_MS', () => {
  it('then their connections are cut off and the process still exits with 0', async () => {
    const timeoutMs = 300
    const server = await startServer({ env: { SHUTDOWN_TIMEOUT_MS: String(timeoutMs), MAX_BODY_BYTES: ROOMY_BODY } })
    try {
      // An upload that never ends by itself: only the cut-off lets the process exit.
      const upload = slowUpload(server.url, 'endless', new Promise(() => {}))
      await untilInFlight(server.url, 1)
      server.process.kill('SIGTERM')
      expect(await withTimeout(server.process.exited, LONG_WAIT_MS)).toBe(0)
      const steps = shutdownSteps(server.lines)
      const stopAccepting = steps.find((s) => s.step === 'stop-accepting')?.elapsedMs ?? Number.NaN
      const forced = steps.find((s) => s.step === 'forced')
      expect(forced?.elapsedMs).toBeGreaterThanOrEqual(stopAccepting + timeoutMs)
      expect(steps.map((s) => s.step)).not.toContain('drained')
      expect((await upload).status).not.toBe(201)
    } finally {
      await server.stop('SIGKILL')
    }
  }, 60_000)
})

describe('when a watch stream is open at SIGTERM', () => {
  it('then the stream is closed and the shutdown does not wait for the timeout', async () => {
    // The timeout is out of the test's reach: exiting at all shows the shutdown did not wait for it.
    const server = await startServer({ env: { SHUTDOWN_TIMEOUT_MS: NEVER_MS } })
    try {
      const watch = await fetch(`${server.url}/configs?watch=true`)
      expect(watch.status).toBe(200)
      const ended = watch.text().then(() => true)
      server.process.kill('SIGTERM')
      expect(await withTimeout(server.process.exited, LONG_WAIT_MS)).toBe(0)
      expect(await withTimeout(ended, LONG_WAIT_MS)).toBe(true)
      expect(shutdownSteps(server.lines).map((s) => s.step)).toEqual(ORDERLY_STEPS)
    } finally {
      await server.stop('SIGKILL')
    }
  }, 60_000)
})

describe('when a second signal arrives during the shutdown', () => {
  it('then the process exits at once with 128 + the signal number', async () => {
    // A delay out of the test's reach: exiting at all shows the second signal did not wait for it.
    const server = await startServer({ env: { SHUTDOWN_DELAY_MS: NEVER_MS } })
    try {
      server.process.kill('SIGTERM')
      await untilStep(server, 'not-ready')
      server.process.kill('SIGINT')
      expect(await withTimeout(server.process.exited, LONG_WAIT_MS)).toBe(130)
      expect(server.lines).toContainEqual(
        expect.objectContaining({ msg: 'second signal during shutdown: exiting now' }),
      )
      expect(shutdownSteps(server.lines).map((s) => s.step)).toEqual(['not-ready'])
    } finally {
      await server.stop('SIGKILL')
    }
  }, 60_000)
})
