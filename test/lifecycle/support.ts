/** What the shutdown tests share: slow uploads, readiness polling, connection probes, log steps. */
import { connect } from 'node:net'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { PROCESS_WAIT_MS, waitFor } from '../support/wait.ts'

export { waitFor }

const CHUNK_MS = 100
/** The stop for a wait on the service process (see PROCESS_WAIT_MS). */
export const LONG_WAIT_MS = PROCESS_WAIT_MS

export interface Upload {
  /** 0 when the connection broke before an answer came. */
  status: number
  body: string
  finishedAt: number
}

/**
 * POSTs a config whose body drips to the server in chunks until `finish` settles (never, for
 * one that must be cut off): a request that is slow for real, with nothing in the product made
 * slow for the test, and that ends when the test says so, not after a guessed time.
 */
export async function slowUpload(base: string, dcname: string, finish: Promise<unknown>): Promise<Upload> {
  const encoder = new TextEncoder()
  let timer: ReturnType<typeof setTimeout> | undefined
  let finishing = false
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`{"dcname":${JSON.stringify(dcname)},"metadata":{"padding":"`))
      const drip = () => {
        try {
          if (finishing) {
            controller.enqueue(encoder.encode('"}}'))
            controller.close()
            return
          }
          controller.enqueue(encoder.encode('x'.repeat(512)))
          timer = setTimeout(drip, CHUNK_MS)
        } catch {
          // The connection is gone (cut off by the server): stop dripping.
        }
      }
      finish.then(() => {
        finishing = true
      })
      timer = setTimeout(drip, CHUNK_MS)
    },
    cancel() {
      clearTimeout(timer)
    },
  })
  try {
    const response = await fetch(`${base}/configs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit)
    return { status: response.status, body: await response.text(), finishedAt: performance.now() }
  } catch (error) {
    clearTimeout(timer)
    return { status: 0, body: String(error), finishedAt: performance.now() }
  }
}

/** The service's own count of requests being handled (`http_requests_in_flight`), the scrape included. */
export async function requestsInFlight(base: string): Promise<number> {
  const families = parseExposition(await (await fetch(`${base}/metrics`)).text())
  return sampleValue(families, 'http_requests_in_flight') ?? Number.NaN
}

/** Waits until the service handles `count` requests besides the scrape that asks. */
export async function untilInFlight(base: string, count: number): Promise<void> {
  let last = Number.NaN
  await waitFor(
    async () => {
      last = await requestsInFlight(base)
      return last - 1 >= count
    },
    LONG_WAIT_MS,
    () => `${count} requests in flight (last seen: ${last - 1})`,
  )
}

/** Waits until the service logged the shutdown step `step`. */
export function untilStep(server: { lines: unknown[] }, step: string): Promise<ShutdownStep> {
  return waitFor(
    () => shutdownSteps(server.lines).find((s) => s.step === step),
    LONG_WAIT_MS,
    () => `the step ${step} (steps so far: ${shutdownSteps(server.lines).map((s) => s.step)})`,
  )
}

export interface AccessLine {
  method: string
  path: string
  status: number
}

/**
 * The access lines the service wrote between the steps `from` and `to` (to the end when `to`
 * never came), in its own order: what it answered in that phase, whatever the clocks say.
 */
export function accessLinesBetween(lines: unknown[], from: string, to?: string): AccessLine[] {
  const stepAt = (step: string) => lines.findIndex((line) => (line as ShutdownStep | null)?.step === step)
  const start = stepAt(from)
  const end = to === undefined ? -1 : stepAt(to)
  if (start < 0) return []
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .filter((line): line is AccessLine => typeof (line as AccessLine | null)?.status === 'number')
}

export interface Poll {
  at: number
  /** Undefined when the request failed. */
  status?: number
}

/**
 * Asks /readyz every 50 ms, each time on a new connection, until a new connection is refused
 * (or `maxMs` passes).
 */
export async function pollReadiness(
  base: string,
  port: number,
  maxMs: number,
): Promise<{ polls: Poll[]; refusedAt: number }> {
  const polls: Poll[] = []
  const deadline = performance.now() + maxMs
  while (performance.now() < deadline) {
    try {
      const response = await fetch(`${base}/readyz`, {
        headers: { connection: 'close' },
        keepalive: false,
        signal: AbortSignal.timeout(1000),
      })
      await response.arrayBuffer()
      polls.push({ at: performance.now(), status: response.status })
    } catch {
      polls.push({ at: performance.now() })
      if (await connectionRefused(port)) return { polls, refusedAt: performance.now() }
    }
    await Bun.sleep(50)
  }
  throw new Error(`connections were still accepted after ${maxMs} ms`)
}

/** True when a new TCP connection to the port is refused. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.setTimeout(1000, () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
  })
}

/** The steps of a shutdown that drained in time, in the order the service logs them. */
export const ORDERLY_STEPS = [
  'not-ready',
  'stop-accepting',
  'watch-closed',
  'drained',
  'traces-flushed',
  'store-closed',
  'exit',
]

export interface ShutdownStep {
  step: string
  elapsedMs?: number
  code?: number
}

/** The shutdown sequence's log lines, in the order written. */
export function shutdownSteps(lines: unknown[]): ShutdownStep[] {
  return lines.filter((line): line is ShutdownStep => typeof (line as ShutdownStep | null)?.step === 'string')
}

export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
