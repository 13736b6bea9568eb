/**
 * The history of config schemas, as configs have theirs: every schema write (create, replace,
 * delete, rollback, forced or not) keeps the state it left with who, when and in which request,
 * in the write's own transaction. The same entries are the schemas' change feed: a schema watch
 * replays them after a revision, then goes on live.
 */
import type { ChangeType } from './changes.ts'
import type { SchemaDefinition, SchemaMode, StoredSchema } from './schema-model.ts'
import type { HistoryCompactedError } from './store-errors.ts'

/** One schema write as history keeps it. For DELETED, `definition` is the last state. */
export interface SchemaHistoryEntry {
  revision: number
  type: ChangeType
  /** When the write was made, RFC 3339 (UTC). */
  time: string
  actor: string
  /** Absent for entries no request made (those adopted from before schema history). */
  requestId?: string
  /** Present when the write was a rollback: the store revision whose state it restored. */
  rollbackOf?: number
  /** The write asked `?force=true`: stored although configs might break it. */
  force?: true
  definition: SchemaDefinition
}

export interface SchemaHistoryPage {
  /** Newest first. */
  entries: SchemaHistoryEntry[]
  more: boolean
}

/** One committed schema write, as a schema watch sends it. */
export interface SchemaChangeEvent {
  type: ChangeType
  revision: number
  rollbackOf?: number
  definition: SchemaDefinition
}

export interface SchemaChangePage {
  /** In revision order. */
  events: SchemaChangeEvent[]
  /** True when more events after the last one are kept. */
  more: boolean
}

export type SchemaChangeListener = (event: SchemaChangeEvent) => void
export type SchemaFeedLost = (error: HistoryCompactedError | Error) => void

/** A history row as both stores read it (drivers hand big integers over as text). */
export interface SchemaHistoryRow {
  revision: number | string
  type: ChangeType
  name: string
  prefix: string
  mode: SchemaMode
  source: string
  time_ms: number | string
  actor: string
  request_id: string
  rollback_of: number | string | null
  forced: boolean | number
}

export function definitionOf(row: SchemaHistoryRow): SchemaDefinition {
  return { name: row.name, prefix: row.prefix, mode: row.mode, schema: JSON.parse(row.source) }
}

export function historyEntryOf(row: SchemaHistoryRow): SchemaHistoryEntry {
  return {
    revision: Number(row.revision),
    type: row.type,
    time: new Date(Math.round(Number(row.time_ms))).toISOString(),
    actor: row.actor,
    ...(row.request_id === '' ? {} : { requestId: row.request_id }),
    ...(row.rollback_of === null ? {} : { rollbackOf: Number(row.rollback_of) }),
    ...(row.forced ? { force: true as const } : {}),
    definition: definitionOf(row),
  }
}

export function changeEventOf(row: SchemaHistoryRow): SchemaChangeEvent {
  return {
    type: row.type,
    revision: Number(row.revision),
    ...(row.rollback_of === null ? {} : { rollbackOf: Number(row.rollback_of) }),
    definition: definitionOf(row),
  }
}

/** `revision` is older than the kept history of this schema (410 Gone). */
export class SchemaRevisionCompactedError extends Error {
  constructor(
    readonly schemaName: string,
    readonly revision: number,
    readonly oldestKept: number,
  ) {
    super(
      `revision ${revision} of schema ${JSON.stringify(schemaName)} is older than its kept history (the oldest kept is ${oldestKept})`,
    )
    this.name = 'SchemaRevisionCompactedError'
  }
}

export interface SchemaStateFacts {
  name: string
  revision: number
  /** The schema's newest kept entry at or before `revision`. */
  entry?: SchemaHistoryRow
  /** The range of the schema's revisions retention dropped, if any. */
  dropped?: { first: number; through: number }
  oldestKept?: number
}

/** The schema at a past revision, as history-state.ts decides it for configs. */
export function schemaStateAt({
  name,
  revision,
  entry,
  dropped,
  oldestKept,
}: SchemaStateFacts): StoredSchema | undefined {
  const entryRevision = entry === undefined ? 0 : Number(entry.revision)
  const decides =
    entry !== undefined && (dropped === undefined || entryRevision > dropped.through || revision < dropped.first)
  if (entry && decides) {
    return entry.type === 'DELETED' ? undefined : { definition: definitionOf(entry), revision: entryRevision }
  }
  if (dropped && revision >= dropped.first) {
    throw new SchemaRevisionCompactedError(name, revision, oldestKept ?? dropped.through + 1)
  }
  return undefined
}
