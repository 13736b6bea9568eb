/**
 * The front door: every request enters the app here, from Bun's and Deno's servers and from
 * tests alike (app.fetch, app.handle). It makes the request's one context (how a request flows
 * from there is told in src/http/request-context.ts), answers 400 to a request whose URL cannot
 * be routed, hands the rest to the router, and has observability see both. Every answer, routed
 * or refused, leaves with the security headers (http/security-headers.ts). From the answer's
 * status and the context it then writes the audit line of a write attempt and counts the access
 * decision.
 */
import { type AuditEntry, auditEntry } from './http/configs/audit.ts'
import { problem, problemResponse } from './http/problem.ts'
import type { PeerSource, RequestContext, RequestContexts } from './http/request-context.ts'
import { withSecurityHeaders } from './http/security-headers.ts'
import type { ObservedRequest } from './observability/http-observability.ts'

export type AuthDecision = 'allowed' | 'unauthenticated' | 'forbidden'

type Answer = Response | Promise<Response>

export interface FrontDoorDeps {
  contexts: RequestContexts
  /** The router (Elysia's fetch). */
  route: (request: Request) => Answer
  /** Observes a request while `handle` answers it; left out, nothing is observed. */
  observe?: <R extends ObservedRequest>(observed: R, handle: (observed: R) => Answer) => Answer
  /** Writes one audit line per write attempt; left out, nothing is audited. */
  audit?: (entry: AuditEntry) => void
  /** Methods that routes declare writes for (route-access.ts). */
  writeMethods: ReadonlySet<string>
  /** Counts the access decision of each request that needed one. */
  onDecision?: (decision: AuthDecision) => void
}

export interface FrontDoor {
  /**
   * Serves one request. `peer`: the address it came from, or the server that can tell it
   * (Bun's, passed as fetch's second argument); left out for a request made in process.
   */
  fetch(request: Request, peer?: PeerSource): Answer
  /** The same for a request made in process (tests, the typed client without a network). */
  handle(request: Request): Promise<Response>
}

export function frontDoor(deps: FrontDoorDeps): FrontDoor {
  const { contexts, route, observe, audit, writeMethods, onDecision } = deps

  const finish = (context: RequestContext, status: number): void => {
    if (audit) {
      const entry = auditEntry(context, status, writeMethods)
      if (entry) audit(entry)
    }
    if (onDecision && context.action !== undefined) {
      // One decision per request that needed one, as it ended: a write the gate let through
      // but the handler's own check refused (a create named outside the caller's prefixes) is
      // one refusal. No decision when none was reached (the token's issuer was unreachable).
      if (status === 401) onDecision('unauthenticated')
      else if (status === 403) onDecision('forbidden')
      else if (context.principal !== undefined) onDecision('allowed')
    }
  }

  const answer = (context: RequestContext): Answer => {
    const pending = context.refusal === undefined ? route(context.request) : refuse(context.refusal)
    if (!(pending instanceof Promise)) {
      finish(context, pending.status)
      return withSecurityHeaders(pending)
    }
    return pending.then(
      (response) => {
        finish(context, response.status)
        return withSecurityHeaders(response)
      },
      (error: unknown) => {
        finish(context, 500)
        throw error
      },
    )
  }

  const fetch = (request: Request, peer?: PeerSource): Answer => {
    const context = contexts.open(request, peer)
    return observe ? observe(context, answer) : answer(context)
  }
  return { fetch, handle: async (request) => fetch(request) }
}

function refuse(detail: string): Response {
  return problemResponse(problem(400, 'bad-request', `${detail}: it cannot be routed`))
}
