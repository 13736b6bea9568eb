/**
 * Config schemas through the typed client: `client.schemas.put('payments', {...})`. Every
 * failure is thrown as the rest of the client throws it (ProblemError, UnreachableError).
 */
import type { ChangeType } from '../configs/changes.ts'
import type { SchemaMode, Violator } from '../configs/schema-model.ts'
import { ProblemError } from './problem-error.ts'
import { type Answer, type ConfigClientCore, nextCursor, type Paging, pagingQuery } from './requests.ts'
import { eventStream } from './resuming-watch.ts'

export interface Schema {
  name: string
  prefix: string
  mode: SchemaMode
  schema: Record<string, unknown>
  /** The store revision of the write that made this state (its ETag). */
  revision: number
}

export interface SchemaPutOptions {
  /** Write only if the schema is at this revision (`If-Match`); `*`: it must exist. */
  ifMatch?: number | '*'
  /** Store an enforce schema although existing configs break it. */
  force?: boolean
  /** Run the write whole and store nothing. */
  dryRun?: boolean
}

/** One kept schema write, newest first in a page; for DELETED, `schema` is the last state. */
export interface SchemaHistoryEntry {
  revision: number
  type: ChangeType
  time: string
  actor: string
  requestId?: string
  rollbackOf?: number
  force?: true
  schema: Omit<Schema, 'revision'>
}

/** A schema write as `GET /schemas?watch=true` sends it. */
export interface SchemaWatchEvent {
  type: ChangeType
  revision: number
  rollbackOf?: number
  schema: Schema
}

export class SchemaClient {
  constructor(
    private readonly client: ConfigClientCore,
    private readonly unwrap: (answer: Answer) => Response,
  ) {}

  async list(): Promise<Schema[]> {
    const answer = await this.client.api.schemas.get()
    this.unwrap(answer)
    return answer.data as Schema[]
  }

  /** The schema now, or with `revision` as it stood at that store revision (its history). */
  async get(name: string, options: { revision?: number } = {}): Promise<Schema> {
    const query = options.revision === undefined ? {} : { revision: String(options.revision) }
    const answer = await this.client.api.schemas({ name }).get({ query })
    this.unwrap(answer)
    return answer.data as Schema
  }

  /** One page of a schema's history, newest first. */
  async history(name: string, paging: Paging = {}): Promise<{ entries: SchemaHistoryEntry[]; next?: string }> {
    const answer = await this.client.api.schemas({ name }).history.get({ query: pagingQuery(paging) })
    const response = this.unwrap(answer)
    const next = nextCursor(response.headers)
    return { entries: answer.data as SchemaHistoryEntry[], ...(next === undefined ? {} : { next }) }
  }

  /** Every page of a schema's history, newest first. */
  async historyAll(name: string): Promise<SchemaHistoryEntry[]> {
    const entries: SchemaHistoryEntry[] = []
    let next: string | undefined
    do {
      const page = await this.history(name, { cursor: next })
      entries.push(...page.entries)
      next = page.next
    } while (next !== undefined)
    return entries
  }

  /** Writes the state of `revision` again, as a PUT of it would (`created`: it undeleted the schema). */
  async rollback(
    name: string,
    revision: number,
    options: SchemaPutOptions = {},
  ): Promise<{ schema: Schema; created: boolean; warning?: string }> {
    const answer = await this.client.api
      .schemas({ name })
      .rollback.post({ revision }, { query: writeQuery(options), headers: ifMatchHeader(options) })
    const response = this.unwrap(answer)
    const warning = response.headers.get('warning') ?? undefined
    return { schema: answer.data as Schema, created: answer.status === 201, ...(warning ? { warning } : {}) }
  }

  /**
   * Schema writes as they happen, after `since` when given (replayed from the kept history).
   * One connection: it ends when the stream does; an `ERROR` event is thrown as ProblemError.
   * Resume with `since` set to the last revision received.
   */
  async *watch(options: { since?: number; signal?: AbortSignal } = {}): AsyncGenerator<SchemaWatchEvent> {
    const since = options.since === undefined ? '' : `&since=${options.since}`
    const response = await this.client.request(`/schemas?watch=true${since}`, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      signal: options.signal,
    })
    const reader = eventStream(response)
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        if (read.value.event === 'ERROR') throw ProblemError.from(0, JSON.parse(read.value.data))
        if (read.value.event === 'ADDED' || read.value.event === 'MODIFIED' || read.value.event === 'DELETED') {
          yield JSON.parse(read.value.data) as SchemaWatchEvent
        }
      }
    } finally {
      await reader.cancel().catch(() => {})
    }
  }

  /** PUT: creates (`created`) or replaces; `warning`: the service's Warning header (violators of a forced schema). */
  async put(
    name: string,
    body: Omit<Schema, 'name' | 'revision'>,
    options: SchemaPutOptions = {},
  ): Promise<{ schema: Schema; created: boolean; warning?: string }> {
    const answer = await this.client.api
      .schemas({ name })
      .put(body, { query: writeQuery(options), headers: ifMatchHeader(options) })
    const response = this.unwrap(answer)
    const warning = response.headers.get('warning') ?? undefined
    return { schema: answer.data as Schema, created: answer.status === 201, ...(warning ? { warning } : {}) }
  }

  async delete(name: string, options: { dryRun?: boolean } = {}): Promise<void> {
    const query: Record<string, string> = options.dryRun ? { dryRun: 'true' } : {}
    this.unwrap(await this.client.api.schemas({ name }).delete(undefined, { query }))
  }

  /** The configs (that the caller may read) that break the schema now. */
  async violators(name: string): Promise<{ total: number; items: Violator[] }> {
    const answer = await this.client.api.schemas({ name }).violations.get()
    this.unwrap(answer)
    return answer.data as { total: number; items: Violator[] }
  }
}

function writeQuery(options: SchemaPutOptions): Record<string, string> {
  const query: Record<string, string> = {}
  if (options.force) query.force = 'true'
  if (options.dryRun) query.dryRun = 'true'
  return query
}

function ifMatchHeader(options: SchemaPutOptions): Record<string, string> {
  if (options.ifMatch === undefined) return {}
  return { 'if-match': options.ifMatch === '*' ? '*' : `"${options.ifMatch}"` }
}
