/**
 * The audit trail: one line per write attempt (create, replace, patch, delete, rollback), refused
 * ones included, saying who tried what on which config, how it ended and, when it wrote, at which
 * revision. It is hooked once for the whole app, after the answer is sent, and keyed by the route
 * the app's matcher finds, so that a write the access gate refused before any handler ran (401,
 * 403) or whose body was refused while read (413, 415) is audited like one a handler answered.
 * A request that matches no write route (an unknown path, a 405) is no write attempt.
 *
 * A line carries no credential and nothing of the body but the dcname it names.
 */
import { Elysia } from 'elysia'
import { isObject } from '../../configs/model.ts'
import { pathOf, type RouteMatcher } from '../route-matcher.ts'
import { createConfig, deleteConfig, patchConfig, replaceConfig } from './contracts.ts'
import { rollbackConfig } from './history-contracts.ts'

export type AuditAction = 'create' | 'replace' | 'patch' | 'delete' | 'rollback'

export interface AuditEntry {
  actor: string
  action: AuditAction
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
}

export interface AuditDeps {
  routes: Pick<RouteMatcher, 'routeOf' | 'paramOf'>
  actorOf: (request: Request) => string
  requestIdOf: (request: Request) => string
  traceIdOf: (request: Request) => string | undefined
  peerAddress: (request: Request) => string | undefined
  write: (entry: AuditEntry) => void
}

const ACTIONS = new Map<string, AuditAction>([
  [`${createConfig.method} ${createConfig.path}`, 'create'],
  [`${replaceConfig.method} ${replaceConfig.path}`, 'replace'],
  [`${patchConfig.method} ${patchConfig.path}`, 'patch'],
  [`${deleteConfig.method} ${deleteConfig.path}`, 'delete'],
  [`${rollbackConfig.method} ${rollbackConfig.path}`, 'rollback'],
])

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * A delete answers 204 without an ETag; its handler leaves the revision of the deletion here
 * for the audit line.
 */
const deletions = new WeakMap<Request, number>()

export function recordDeletion(request: Request, revision: number): void {
  deletions.set(request, revision)
}

interface AfterResponse {
  request: Request
  set: { status?: number | string; headers: Record<string, unknown> }
  body: unknown
  responseValue?: unknown
}

export function auditTrail(deps: AuditDeps) {
  // Bun knows the peer of a request only while it is open, not after its answer was sent.
  const peers = new WeakMap<Request, string | undefined>()
  const entryOf = ({ request, set, body, responseValue }: AfterResponse): AuditEntry | undefined => {
    const method = request.method
    if (!WRITE_METHODS.has(method)) return undefined
    const path = pathOf(request.url)
    const action = ACTIONS.get(`${method} ${deps.routes.routeOf(method, path)}`)
    if (action === undefined) return undefined
    // The error mapper puts the status of its answer in `set` (errors.ts); a handler that
    // returns a Response of its own says it there.
    const status =
      responseValue instanceof Response ? responseValue.status : typeof set.status === 'number' ? set.status : 200
    const entry: AuditEntry = {
      actor: deps.actorOf(request),
      action,
      dcname: action === 'create' ? bodyDcname(body) : (deps.routes.paramOf(path, 'dcname') ?? null),
      status,
      requestId: deps.requestIdOf(request),
      traceId: deps.traceIdOf(request) ?? null,
      sourceIp: normalizeAddress(peers.get(request)),
    }
    const revision = status >= 200 && status < 300 ? writtenRevision(request, set.headers.etag) : undefined
    if (revision !== undefined) entry.revision = revision
    const rollbackOf = action === 'rollback' ? bodyRevision(body) : undefined
    if (rollbackOf !== undefined) entry.rollbackOf = rollbackOf
    return entry
  }

  // The hook names the fields it reads instead of handing the context on: Elysia reads from a
  // hook's source which fields to build, and a context passed whole to a function makes every
  // route of the app build all of them (headers as an object, cookies, the query) per request.
  return new Elysia({ name: 'audit-trail' })
    .onRequest(({ request }) => {
      if (WRITE_METHODS.has(request.method)) peers.set(request, deps.peerAddress(request))
    })
    .onAfterResponse({ as: 'global' }, ({ request, set, body, responseValue }) => {
      const entry = entryOf({ request, set, body, responseValue })
      if (entry) deps.write(entry)
    })
}

/** The body as the app already parsed it (it is never read twice); absent when it did not parse. */
function bodyDcname(body: unknown): string | null {
  return isObject(body) && typeof body.dcname === 'string' ? body.dcname : null
}

function bodyRevision(body: unknown): number | undefined {
  return isObject(body) && Number.isSafeInteger(body.revision) ? (body.revision as number) : undefined
}

function writtenRevision(request: Request, etag: unknown): number | undefined {
  const deleted = deletions.get(request)
  if (deleted !== undefined) return deleted
  const revision = typeof etag === 'string' ? Number(etag.replaceAll('"', '')) : Number.NaN
  return Number.isSafeInteger(revision) ? revision : undefined
}

/** An IPv4 peer of a dual-stack socket is reported as `::ffff:a.b.c.d`; the log says `a.b.c.d`. */
export function normalizeAddress(address: string | undefined): string | null {
  if (!address) return null
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
