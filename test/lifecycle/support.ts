/** What the shutdown tests share: slow uploads, readiness polling, connection probes, log steps. */
import { connect } from 'node:net'

export { waitFor } from '../support/wait.ts'

const CHUNK_MS = 100

export interface Upload {
  /** 0 when the connection broke before an answer came. */
  status: number
  body: string
  finishedAt: number
}

/**
 * POSTs a config whose body drips to the server in chunks for `durationMs`: a request that is
 * slow for real, with nothing in the product made slow for the test.
 */
export async function slowUpload(base: string, dcname: string, durationMs: number): Promise<Upload> {
  const encoder = new TextEncoder()
  const chunks = Math.max(1, Math.round(durationMs / CHUNK_MS))
  let timer: ReturnType<typeof setTimeout> | undefined
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`{"dcname":${JSON.stringify(dcname)},"metadata":{"padding":"`))
      let sent = 0
      const drip = () => {
        try {
          controller.enqueue(encoder.encode('x'.repeat(512)))
          if (++sent < chunks) timer = setTimeout(drip, CHUNK_MS)
          else {
            controller.enqueue(encoder.encode('"}}'))
            controller.close()
          }
        } catch {
          // The connection is gone (cut off by the server): stop dripping.
        }
      }
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
