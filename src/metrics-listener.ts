/**
 * The listener of METRICS_PORT: `/metrics` on a port of its own, so that whatever exposes the API
 * (an Ingress, a NodePort) never exposes the metrics with it, and a NetworkPolicy can admit only
 * Prometheus to them. Scrapes on this port are not counted in the request metrics: they are
 * Prometheus' traffic, not the API's.
 *
 * The server itself is the runtime's (Bun.serve in main.ts, Deno.serve in main.deno.ts); a port
 * it cannot have stops start-up like a taken SERVE_PORT (startup.ts).
 */
import { problem, problemResponse } from './http/problem.ts'
import { withSecurityHeaders } from './http/security-headers.ts'
import type { Metrics } from './observability/metrics.ts'

type FetchHandler = (request: Request) => Promise<Response>

/** GET (and HEAD) /metrics; 405 for another method on it, 404 for any other path. */
export function metricsHandler(metrics: Metrics): FetchHandler {
  return async (request) => withSecurityHeaders(await answer(metrics, request))
}

async function answer(metrics: Metrics, request: Request): Promise<Response> {
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
