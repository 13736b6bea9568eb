/**
 * The same shutdown on Deno (src/main.deno.ts, Deno.serve), smaller: one slow upload in flight.
 * Deno 2.9's server.shutdown() breaks request bodies still being read, so main.deno.ts lets the
 * handlers finish first (new requests meanwhile get 503); this test is what shows that works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type RunningServer, startServer } from '../support/server.ts'
import {
  accessLinesBetween,
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

describe('on Deno, when SIGTERM arrives while a slow upload is in flight', () => {
  let server: RunningServer
  let signalledAt: number
  let upload: Awaited<ReturnType<typeof slowUpload>>
  let polls: Poll[]
  let exitCode: number
  let steps: ShutdownStep[]

  // A Deno start at load takes tens of seconds (support/server.ts), and the shutdown comes after it.
  beforeAll(async () => {
    server = await startServer({
      runtime: 'deno',
      // The timeout is out of reach (the drain must end because the upload did), the body limit too.
      env: { SHUTDOWN_DELAY_MS: String(DELAY_MS), SHUTDOWN_TIMEOUT_MS: '600000', MAX_BODY_BYTES: String(64 << 20) },
    })
    let listenerClosed = () => {}
    const closed = new Promise<void>((resolve) => {
      listenerClosed = resolve
    })
    const pending = slowUpload(server.url, 'slow-deno', closed)
    await untilInFlight(server.url, 1)
    signalledAt = performance.now()
    server.process.kill('SIGTERM')
    // A probe answered before the signal is handled proves nothing: start once it is.
    await untilStep(server, 'not-ready')
    const polling = pollReadiness(server.url, server.port, LONG_WAIT_MS)
    await untilStep(server, 'stop-accepting')
    listenerClosed()
    upload = await pending
    ;({ polls } = await polling)
    exitCode = await withTimeout(server.process.exited, LONG_WAIT_MS)
    steps = shutdownSteps(server.lines)
  }, 90_000)

  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  it('then the upload completes with 201 after the delay, answered after the listener closed', () => {
    expect(upload.status).toBe(201)
    expect(upload.finishedAt - signalledAt).toBeGreaterThan(DELAY_MS)
    const answered = accessLinesBetween(server.lines, 'stop-accepting', 'drained')
    expect(answered.filter((line) => line.method === 'POST').map((line) => line.status)).toEqual([201])
  })

  it('then /readyz answers 503 during the delay', () => {
    const readiness = accessLinesBetween(server.lines, 'not-ready', 'stop-accepting')
      .filter((line) => line.path === '/readyz')
      .map((line) => line.status)
    expect(readiness.length).toBeGreaterThan(0)
    expect(new Set(readiness)).toEqual(new Set([503]))
    const answered = polls.filter((p) => p.status !== undefined)
    expect(answered.every((p) => p.status === 503)).toBe(true)
  })

  it('then the process exits with 0 after the steps, in order', () => {
    expect(exitCode).toBe(0)
    expect(steps.map((s) => s.step)).toEqual(ORDERLY_STEPS)
  })
})
