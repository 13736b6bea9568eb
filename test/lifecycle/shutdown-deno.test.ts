/**
 * The same shutdown on Deno (src/main.deno.ts, Deno.serve), smaller: one slow upload in flight.
 * Deno 2.9's server.shutdown() breaks request bodies still being read, so main.deno.ts lets the
 * handlers finish first (new requests meanwhile get 503); this test is what shows that works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type RunningServer, startServer } from '../support/server.ts'
import { type Poll, pollReadiness, type ShutdownStep, shutdownSteps, slowUpload, withTimeout } from './support.ts'

const DELAY_MS = 500

describe('on Deno, when SIGTERM arrives while a slow upload is in flight', () => {
  let server: RunningServer
  let signalledAt: number
  let upload: Awaited<ReturnType<typeof slowUpload>>
  let polls: Poll[]
  let exitCode: number
  let steps: ShutdownStep[]

  beforeAll(async () => {
    server = await startServer({
      runtime: 'deno',
      env: { SHUTDOWN_DELAY_MS: String(DELAY_MS), SHUTDOWN_TIMEOUT_MS: '5000' },
    })
    const pending = slowUpload(server.url, 'slow-deno', 1200)
    await Bun.sleep(200)
    signalledAt = performance.now()
    server.process.kill('SIGTERM')
    // A signal is handled a moment after it is sent; a probe answered before that proves nothing.
    await Bun.sleep(50)
    const polling = pollReadiness(server.url, server.port, 4000)
    upload = await pending
    ;({ polls } = await polling)
    exitCode = await withTimeout(server.process.exited, 10_000)
    steps = shutdownSteps(server.lines)
  }, 40_000)

  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  it('then the upload completes with 201 after the delay', () => {
    expect(upload.status).toBe(201)
    expect(upload.finishedAt - signalledAt).toBeGreaterThan(DELAY_MS)
  })

  it('then /readyz answers 503 during the delay', () => {
    const during = polls.filter((p) => p.status !== undefined && p.at - signalledAt < DELAY_MS)
    expect(during.length).toBeGreaterThan(2)
    expect(during.every((p) => p.status === 503)).toBe(true)
  })

  it('then the process exits with 0 after the steps, in order', () => {
    expect(exitCode).toBe(0)
    expect(steps.map((s) => s.step)).toEqual([
      'not-ready',
      'stop-accepting',
      'watch-closed',
      'drained',
      'traces-flushed',
      'store-closed',
      'exit',
    ])
  })
})
