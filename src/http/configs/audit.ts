/**
 * The audit trail: one line per write attempt, refused ones included, saying who tried what on
 * which config, how it ended and, when it wrote, at which revision. A write attempt is a request
 * routed to a route that declares a write action (create, replace, patch, delete, rollback), or
 * one answered 400 before routing (its URL had no usable host) whose method is one that writes:
 * `action` is null then, as no route was matched. A request that matches no route (an unknown
 * path, a 405) is no write attempt.
 *
 * The line is made from the request's context when its answer is known (the front door calls
 * auditEntry), so a write the access gate refused before any handler ran (401, 403), or whose
 * body was refused while read (413, 415), is audited like one a handler answered.
 *
 * A line carries no credential and nothing of the body but the dcname it names (and, for a
 * schema's findings, the pointers and keywords they concern).
 */
import { ANONYMOUS_ACTOR, isWriteAction, UNKNOWN_ACTOR, type WriteAction } from '../../configs/access.ts'
import { bearerToken } from '../auth.ts'
import type { RequestContext } from '../request-context.ts'

export interface AuditEntry {
  actor: string
  /** The route's action; null for a request refused before routing. */
  action: WriteAction | null
  /** From the URL; for a create, from the body when it parsed and named one; else null. */
  dcname: string | null
  status: number
  /** The revision written: only when the write succeeded. */
  revision?: number
  /** A rollback's: the revision whose state it restores (or, refused, would have), from its body. */
  rollbackOf?: number
  requestId: string
  /** The trace the request's access line and spans name; null when the app is not observed. */
  traceId: string | null
  /** The peer's address; null when the runtime gives none (in-process requests). */
  sourceIp: string | null
  /** The write was a dry run (`?dryRun=true`): nothing was stored, and no revision is named. */
  dryRun?: true
  /** A schema stored with `?force=true` although configs break it. */
  force?: true
  /** What a schema found: a warn-mode schema a config write broke, or the violators of a forced one. */
  warning?: string
  /** A rollout route's: the rollout it created or steered. */
  rollout?: string
}

/**
 * The audit entry of a request answered with `status`, or undefined when it was no write attempt.
 * `writeMethods`: the methods routes declare writes for (route-access.ts).
 */
export function auditEntry(
  context: RequestContext,
  status: number,
  writeMethods: ReadonlySet<string>,
): AuditEntry | undefined {
  const action = writeActionOf(context)
  if (action === undefined && !(context.refusal !== undefined && writeMethods.has(context.method))) return undefined
  const entry: AuditEntry = {
    actor: actorOf(context),
    action: action ?? null,
    dcname: context.dcname ?? null,
    status,
    requestId: context.requestId,
    traceId: context.traceId ?? null,
    sourceIp: normalizeAddress(context.peer),
  }
  if (context.dryRun) entry.dryRun = true
  else if (status >= 200 && status < 300 && context.revision !== undefined) entry.revision = context.revision
  if (context.force) entry.force = true
  if (context.warning !== undefined) entry.warning = context.warning
  if (context.rollbackOf !== undefined) entry.rollbackOf = context.rollbackOf
  if (context.rollout !== undefined) entry.rollout = context.rollout
  return entry
}

function writeActionOf({ action }: RequestContext): WriteAction | undefined {
  return action !== undefined && isWriteAction(action) ? action : undefined
}

/**
 * Who a request acted as, also when it was refused: the principal's actor once one was
 * resolved (a 403 has one), `unknown` for a token that resolved none (the token itself is never
 * named), `anonymous` without a token.
 */
function actorOf({ principal, request }: RequestContext): string {
  if (principal) return principal.actor
  return bearerToken(request) === undefined ? ANONYMOUS_ACTOR : UNKNOWN_ACTOR
}

/** An IPv4 peer of a dual-stack socket is reported as `::ffff:a.b.c.d`; the log says `a.b.c.d`. */
export function normalizeAddress(address: string | undefined): string | null {
  if (!address) return null
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
