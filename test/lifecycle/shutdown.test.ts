/**
 * Graceful shutdown of the real Bun process: SIGTERM while slow uploads are in flight.
 * The uploads are slow for real: each body drips to the server in chunks for longer than
 * SHUTDOWN_DELAY_MS, so they are still being received when the listener closes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type RunningServer, startServer } from '../support/server.ts'
import {
  connectionRefused,
  type Poll,
  pollReadiness,
  type ShutdownStep,
  shutdownSteps,
  slowUpload,
  waitFor,
  withTimeout,
} from './support.ts'

const DELAY_MS = 1000
const UPLOADS = 3
const UPLOAD_MS = 1800

describe('when SIGTERM arrives while slow uploads are in flight', () => {
  let server: RunningServer
  let signalledAt: number
  let uploads: { status: number; body: string; finishedAt: number }[]
  let polls: Poll[]
  let refusedAt: number
  let exitCode: number
  let steps: ShutdownStep[]

  beforeAll(async () => {
    server = await startServer({ env: { SHUTDOWN_DELAY_MS: String(DELAY_MS), SHUTDOWN_TIMEOUT_MS: '5000' } })
    const pending = Array.from({ length: UPLOADS }, (_, i) => slowUpload(server.url, `slow-${i}`, UPLOAD_MS))
    await Bun.sleep(200)
    signalledAt = performance.now()
    server.process.kill('SIGTERM')
    // A signal is handled a moment after it is sent; a probe answered before that proves nothing.
    await Bun.sleep(50)
    const polling = pollReadiness(server.url, server.port, 4000)
    uploads = await Promise.all(pending)
    ;({ polls, refusedAt } = await polling)
    exitCode = await withTimeout(server.process.exited, 10_000)
    steps = shutdownSteps(server.lines)
  }, 20_000)

  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  it('then every upload completes with 201', () => {
    expect(uploads.map((u) => u.status)).toEqual(Array(UPLOADS).fill(201))
  })

  it('then the uploads were still in flight when the listener closed, and the drain waited for them', () => {
    const stopAccepting = steps.find((s) => s.step === 'stop-accepting')
    const drained = steps.find((s) => s.step === 'drained')
    expect(stopAccepting?.elapsedMs).toBeGreaterThanOrEqual(DELAY_MS)
    expect(drained?.elapsedMs).toBeGreaterThan((stopAccepting?.elapsedMs ?? 0) + 200)
    for (const upload of uploads) expect(upload.finishedAt).toBeGreaterThan(signalledAt + DELAY_MS)
  })

  it('then /readyz answers 503 during the delay, and nothing but 503 once it started', () => {
    const answered = polls.filter((p) => p.status !== undefined)
    expect(answered.length).toBeGreaterThan(5)
    expect(answered.every((p) => p.status === 503)).toBe(true)
    const last = answered.at(-1) as Poll
    expect(last.at - signalledAt).toBeGreaterThan(DELAY_MS * 0.8)
  })

  it('then new connections are refused after the delay', async () => {
    expect(refusedAt - signalledAt).toBeGreaterThanOrEqual(DELAY_MS * 0.9)
    expect(refusedAt - signalledAt).toBeLessThan(DELAY_MS + 1000)
    expect(await connectionRefused(server.port)).toBe(true)
  })

  it('then the process exits with 0', () => {
    expect(exitCode).toBe(0)
  })

  it('then the log shows each step, in order', () => {
    expect(steps.map((s) => s.step)).toEqual([
      'not-ready',
      'stop-accepting',
      'watch-closed',
      'drained',
      'traces-flushed',
      'store-closed',
      'exit',
    ])
    expect(steps.at(-1)).toMatchObject({ code: 0 })
  })

  it('then the uploads are stored: a new process on the same database serves them', async () => {
    const again = await startServer({ databaseUrl: server.databaseUrl })
    try {
      for (let i = 0; i < UPLOADS; i++) expect((await fetch(`${again.url}/configs/slow-${i}`)).status).toBe(200)
    } finally {
      await again.stop()
    }
  })
})

describe('when requests are still in flight after SHUTDOWN_TIMEOUT_MS', () => {
  it('then their connections are cut off and the process still exits with 0', async () => {
    const server = await startServer({ env: { SHUTDOWN_TIMEOUT_MS: '300' } })
    try {
      const upload = slowUpload(server.url, 'endless', 5000)
      await Bun.sleep(200)
      const signalledAt = performance.now()
      server.process.kill('SIGTERM')
      const exitCode = await withTimeout(server.process.exited, 5000)
      const took = performance.now() - signalledAt
      expect(exitCode).toBe(0)
      expect(took).toBeLessThan(2000)
      expect(shutdownSteps(server.lines).map((s) => s.step)).toContain('forced')
      expect((await upload).status).not.toBe(201)
    } finally {
      await server.stop('SIGKILL')
    }
  }, 10_000)
})

describe('when a watch stream is open at SIGTERM', () => {
  it('then the stream is closed and the shutdown does not wait for the timeout', async () => {
    const server = await startServer({ env: { SHUTDOWN_TIMEOUT_MS: '5000' } })
    try {
      const watch = await fetch(`${server.url}/configs?watch=true`)
      expect(watch.status).toBe(200)
      const ended = watch.text().then(() => performance.now())
      const signalledAt = performance.now()
      server.process.kill('SIGTERM')
      expect(await withTimeout(server.process.exited, 5000)).toBe(0)
      expect((await withTimeout(ended, 2000)) - signalledAt).toBeLessThan(1500)
      expect(performance.now() - signalledAt).toBeLessThan(2000)
    } finally {
      await server.stop('SIGKILL')
    }
  }, 10_000)
})

describe('when a second signal arrives during the shutdown', () => {
  it('then the process exits at once with 128 + the signal number', async () => {
    const server = await startServer({ env: { SHUTDOWN_DELAY_MS: '10000' } })
    try {
      server.process.kill('SIGTERM')
      await waitFor(() => shutdownSteps(server.lines).some((s) => s.step === 'not-ready'), 3000)
      const signalledAt = performance.now()
      server.process.kill('SIGINT')
      expect(await withTimeout(server.process.exited, 3000)).toBe(130)
      expect(performance.now() - signalledAt).toBeLessThan(1000)
      expect(server.lines).toContainEqual(
        expect.objectContaining({ msg: 'second signal during shutdown: exiting now' }),
      )
    } finally {
      await server.stop('SIGKILL')
    }
  }, 10_000)
})
