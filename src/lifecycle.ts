/**
 * Graceful shutdown on SIGTERM/SIGINT, one order for every runtime (as podinfo does it):
 *  1. readiness answers 503, so Kubernetes takes the pod out of its Service's endpoints;
 *  2. wait SHUTDOWN_DELAY_MS while that news travels; requests are still served meanwhile;
 *  3. stop accepting connections; requests in flight go on;
 *  4. close watch streams at once: they never end by themselves and would hold step 5 open;
 *  5. wait for the requests in flight, at most SHUTDOWN_TIMEOUT_MS, then cut them off;
 *  6. flush traces, so the spans of those last requests leave the process;
 *  7. close the store, and exit 0.
 * A second signal exits at once. The runtime-specific part, the server, comes in as
 * StoppableServer from main.ts (Bun) or main.deno.ts (Deno).
 */
import process from 'node:process'
import type { Readiness } from './http/health.ts'
import { problem, problemResponse } from './http/problem.ts'

export interface StoppableServer {
  /** Stops accepting connections; resolves once the requests in flight have finished. */
  stop(): Promise<void>
  /** Closes the connections still open, now. */
  forceStop(): Promise<void> | void
}

interface StepLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

export interface ShutdownPlan {
  readiness: Readiness
  delayMs: number
  timeoutMs: number
  server: StoppableServer
  closeStore(): Promise<void>
  /** Ends every watch stream (absent while the service has none). */
  closeWatchStreams?: () => unknown
  /** Exports the spans still buffered (absent while tracing is off). */
  flushTraces?: () => Promise<unknown>
  logger: StepLogger
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const
type Signal = (typeof SIGNALS)[number]
const SIGNAL_NUMBERS: Record<Signal, number> = { SIGINT: 2, SIGTERM: 15 }

/** Runs the sequence; resolves with the exit code (0 unless a step failed). */
export async function shutDown(plan: ShutdownPlan, signal: string): Promise<number> {
  const { logger, timeoutMs } = plan
  const started = Date.now()
  const elapsedMs = () => Date.now() - started
  let code = 0
  const attempt = async (step: string, run: () => Promise<unknown>, message: string) => {
    try {
      const outcome = await withTimeout(run(), timeoutMs)
      if (outcome === TIMED_OUT) {
        logger.warn({ step, elapsedMs: elapsedMs() }, `${message}: gave up after ${timeoutMs} ms`)
      } else logger.info({ step, elapsedMs: elapsedMs() }, message)
    } catch (error) {
      code = 1
      logger.error({ step, err: error, elapsedMs: elapsedMs() }, `${message}: failed`)
    }
  }

  plan.readiness.markShuttingDown()
  logger.info({ step: 'not-ready', signal, delayMs: plan.delayMs }, 'shutting down: readiness now answers 503')
  if (plan.delayMs > 0) await sleep(plan.delayMs)

  // Settled into a value at once: a failure must not surface as an unhandled rejection meanwhile.
  const drained = plan.server.stop().then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  )
  logger.info({ step: 'stop-accepting', elapsedMs: elapsedMs() }, 'stopped accepting connections')

  if (plan.closeWatchStreams) {
    const close = plan.closeWatchStreams
    await attempt('watch-closed', async () => close(), 'closed watch streams')
  }

  const finished = await withTimeout(drained, timeoutMs)
  if (finished === TIMED_OUT) {
    logger.warn({ step: 'forced', elapsedMs: elapsedMs() }, `requests still in flight after ${timeoutMs} ms: cut off`)
    await attempt('forced', async () => plan.server.forceStop(), 'closed the remaining connections')
  } else if (finished instanceof Error) {
    code = 1
    logger.error({ step: 'drained', err: finished, elapsedMs: elapsedMs() }, 'the server failed to stop')
  } else {
    logger.info({ step: 'drained', elapsedMs: elapsedMs() }, 'requests in flight finished')
  }

  if (plan.flushTraces) await attempt('traces-flushed', plan.flushTraces, 'flushed traces')
  await attempt('store-closed', () => plan.closeStore(), 'closed the store')
  logger.info({ step: 'exit', code, elapsedMs: elapsedMs() }, 'shutdown complete')
  return code
}

/**
 * On the first SIGTERM or SIGINT runs `run` and exits with its code; a second signal exits at
 * once with 128 + the signal's number, as a shell reports a process killed by it.
 */
export function exitOnSignals(
  run: (signal: string) => Promise<number>,
  logger: StepLogger,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let running = false
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (running) {
        logger.warn({ signal }, 'second signal during shutdown: exiting now')
        exit(128 + SIGNAL_NUMBERS[signal])
        return
      }
      running = true
      run(signal).then(exit, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        exit(1)
      })
    })
  }
}

/**
 * Counts the requests whose handlers are still running and, once closed, answers new ones with
 * 503. Deno needs it: its `server.shutdown()` (2.9) makes in-flight request bodies unreadable
 * (denoland/deno#36809), so main.deno.ts waits for this to drain before calling it.
 */
export class RequestDrain {
  #count = 0
  #closed = false
  #idle: (() => void) | undefined

  track<Rest extends unknown[]>(
    handler: (request: Request, ...rest: Rest) => Promise<Response>,
  ): (request: Request, ...rest: Rest) => Promise<Response> {
    return async (request, ...rest) => {
      if (this.#closed) return shuttingDownResponse()
      this.#count++
      try {
        return await handler(request, ...rest)
      } finally {
        this.#count--
        if (this.#count === 0) this.#idle?.()
      }
    }
  }

  /** Refuses new requests; resolves when none is in flight. */
  close(): Promise<void> {
    this.#closed = true
    if (this.#count === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.#idle = resolve
    })
  }
}

function shuttingDownResponse(): Response {
  return problemResponse(problem(503, 'shutting-down', 'the service is shutting down; retry on another instance'), {
    connection: 'close',
    'retry-after': '1',
  })
}

const TIMED_OUT = Symbol('timed out')

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
