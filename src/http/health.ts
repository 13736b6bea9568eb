/**
 * Probes, as Kubernetes uses them.
 * - /healthz (liveness) answers 200 whenever a handler runs at all. It checks nothing else on
 *   purpose: a slow database must take the pod out of rotation, not get it restarted.
 * - /readyz (readiness) answers 200 while the store answers a ping and the service is not
 *   shutting down; otherwise 503 problem+json whose detail says which. A store whose writes
 *   cannot be made durable (a full disk) fails its ping with the cause, which the detail names:
 *   its reads may still work, but a replica that refuses every write should get no traffic.
 */
import { Elysia, t } from 'elysia'
import type { ConfigStore } from '../configs/config-store.ts'
import { WritesNotDurableError } from '../configs/durability.ts'
import { defineRoute, routeHook } from './contract.ts'
import { problemResponses } from './openapi-docs.ts'
import { problem, problemResponse } from './problem.ts'
import { OPEN } from './route-access.ts'

/** Whether the process still wants traffic. Shutdown flips it once; nothing flips it back. */
export class Readiness {
  #shuttingDown = false

  get shuttingDown(): boolean {
    return this.#shuttingDown
  }

  markShuttingDown(): void {
    this.#shuttingDown = true
  }
}

interface HealthOptions {
  store: Pick<ConfigStore, 'ping'>
  readiness: Readiness
  /**
   * A ping result answers every probe for this long. Probes come every few seconds per kubelet,
   * but a caller (or a misconfigured monitor) may hammer /readyz: the cache, with concurrent
   * probes sharing one ping in flight, bounds the store's extra load to one ping per second.
   */
  pingMaxAgeMs?: number
  /** A ping slower than this counts as a failure (a hung connection must not hang the probe). */
  pingTimeoutMs?: number
  /**
   * Told why the store failed a ping (at most once per ping, so once per max age). Not told of
   * writes that cannot be made durable: the store tells of those once per episode itself.
   */
  onStoreDown?: (error: unknown) => void
}

const NO_STORE = { 'cache-control': 'no-store' }

const Status = t.Object({ status: t.Literal('ok') })
const OK = { status: 'ok' }

const liveness = defineRoute({
  method: 'GET',
  path: '/healthz',
  access: OPEN,
  operationId: 'getHealthz',
  summary: 'Liveness',
  description: 'Answers 200 while the process can serve. Checks nothing else.',
  tags: ['operations'],
  responses: { 200: { description: 'The process is alive', schema: Status, example: OK } },
})

const readinessProbe = defineRoute({
  method: 'GET',
  path: '/readyz',
  access: OPEN,
  operationId: 'getReadyz',
  summary: 'Readiness',
  description:
    'Answers 200 while the store answers a ping (cached for up to a second), can make writes durable ' +
    '(SQLite: not while its disk is full or failing) and the service is not shutting down; otherwise ' +
    '503 with the reason in `detail`.',
  tags: ['operations'],
  responses: { 200: { description: 'Ready for traffic', schema: Status, example: OK }, ...problemResponses(503) },
})

export const HEALTH_CONTRACTS = [liveness, readinessProbe]

export function healthRoutes(options: HealthOptions) {
  const { readiness } = options
  const storeCheck = cachedPing(options)
  return new Elysia({ name: 'health' })
    .get(
      liveness.path,
      ({ set }) => {
        Object.assign(set.headers, NO_STORE)
        return { status: 'ok' as const }
      },
      routeHook(liveness),
    )
    .get(
      readinessProbe.path,
      // Both answers are made here, problem+json included, so the probe answers the same when
      // used alone (without the app's error mapping).
      async () => {
        if (readiness.shuttingDown) return notReady('the service is shutting down')
        const failure = await storeCheck()
        if (failure) return notReady(failure)
        return Response.json(OK, { headers: NO_STORE })
      },
      routeHook(readinessProbe),
    )
}

function notReady(detail: string): Response {
  return problemResponse(problem(503, 'not-ready', detail), { ...NO_STORE, 'retry-after': '1' })
}

/** The store check: undefined when the store answered, else why it did not. */
function cachedPing(options: HealthOptions): () => Promise<string | undefined> {
  const { store, pingMaxAgeMs = 1000, pingTimeoutMs = 1000, onStoreDown } = options
  let settled: { at: number; failure: string | undefined } | undefined
  let runningPing: Promise<string | undefined> | undefined

  const check = async (): Promise<string | undefined> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), pingTimeoutMs)
    })
    try {
      const outcome = await Promise.race([store.ping().then(() => 'ok' as const), timeout])
      if (outcome === 'ok') return undefined
      onStoreDown?.(new Error(`the store did not answer a ping within ${pingTimeoutMs} ms`))
      return `the config store did not answer within ${pingTimeoutMs} ms`
    } catch (error) {
      // Its reason names a cause of the disk and nothing else.
      if (error instanceof WritesNotDurableError) return error.message
      onStoreDown?.(error)
      // The cause stays in the log: a driver's message may name hosts or users.
      return 'the config store did not answer its ping'
    } finally {
      clearTimeout(timer)
    }
  }

  return () => {
    if (settled && Date.now() - settled.at < pingMaxAgeMs) return Promise.resolve(settled.failure)
    runningPing ??= check().then((failure) => {
      settled = { at: Date.now(), failure }
      runningPing = undefined
      return failure
    })
    return runningPing
  }
}
