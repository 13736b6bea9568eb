/**
 * The listener of METRICS_PORT: `/metrics` on a port of its own, so that whatever exposes the API
 * (an Ingress, a NodePort) never exposes the metrics with it, and a NetworkPolicy can admit only
 * Prometheus to them. Scrapes on this port are not counted in the request metrics: they are
 * Prometheus' traffic, not the API's.
 *
 * The runtime-specific part, the server itself, comes from main.ts (Bun.serve) or main.deno.ts
 * (Deno.serve) as `listen`.
 */
import process from 'node:process'
import { problem, problemResponse } from '../http/problem.ts'
import type { Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'

export type FetchHandler = (request: Request) => Promise<Response>

/** GET (and HEAD) /metrics; 405 for another method on it, 404 for any other path. */
export function metricsHandler(metrics: Metrics): FetchHandler {
  return async (request) => {
    const path = new URL(request.url).pathname
    if (path !== '/metrics') return problemResponse(problem(404, 'no-route', `no route for ${request.method} ${path}`))
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return problemResponse(problem(405, 'method-not-allowed', `${request.method} is not allowed on ${path}`), {
        allow: 'GET, HEAD',
      })
    }
    const body = request.method === 'HEAD' ? null : await metrics.scrape()
    return new Response(body, { headers: { 'content-type': metrics.contentType } })
  }
}

/**
 * Starts the metrics listener on `port` with the runtime's `listen` (which returns the port it
 * got) and logs it. A port it cannot have stops start-up with one line on stderr, exit code 1,
 * as a serving port that is taken would.
 */
export function startMetricsListener(
  port: number,
  metrics: Metrics,
  logger: Logger,
  listen: (port: number, fetch: FetchHandler) => number,
): void {
  let bound: number
  try {
    bound = listen(port, metricsHandler(metrics))
  } catch (error) {
    console.error(`cannot listen on METRICS_PORT ${port}: ${reason(error)}`)
    process.exit(1)
  }
  logger.info({ port: bound }, 'metrics listening')
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code
  if (code === 'EADDRINUSE' || (error as { name?: unknown }).name === 'AddrInUse') return 'the address is in use'
  if (code === 'EACCES' || (error as { name?: unknown }).name === 'PermissionDenied') return 'permission denied'
  return error instanceof Error ? (error.message.split('\n')[0] ?? 'unknown error') : String(error)
}
