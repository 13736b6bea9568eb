/**
 * Config schemas through the typed client: `client.schemas.put('payments', {...})`. Every
 * failure is thrown as the rest of the client throws it (ProblemError, UnreachableError).
 */
import type { SchemaMode, Violator } from '../configs/schema-model.ts'
import type { Answer, ConfigClient } from './client.ts'

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

export class SchemaClient {
  constructor(
    private readonly client: ConfigClient,
    private readonly unwrap: (answer: Answer) => Response,
  ) {}

  async list(): Promise<Schema[]> {
    const answer = await this.client.api.schemas.get()
    this.unwrap(answer)
    return answer.data as Schema[]
  }

  async get(name: string): Promise<Schema> {
    const answer = await this.client.api.schemas({ name }).get()
    this.unwrap(answer)
    return answer.data as Schema
  }

  /** PUT: creates (`created`) or replaces; `warning`: the service's Warning header (violators of a forced schema). */
  async put(
    name: string,
    body: Omit<Schema, 'name' | 'revision'>,
    options: SchemaPutOptions = {},
  ): Promise<{ schema: Schema; created: boolean; warning?: string }> {
    const query: Record<string, string> = {}
    if (options.force) query.force = 'true'
    if (options.dryRun) query.dryRun = 'true'
    const headers: Record<string, string> = {}
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch === '*' ? '*' : `"${options.ifMatch}"`
    const answer = await this.client.api.schemas({ name }).put(body, { query, headers })
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
