/**
 * A config write (create, replace, update, delete) on PostgreSQL, as a plan: the dcname, and the
 * domain's decision (decideWrite) on the config found under the write lock. A plan runs either
 * alone (`alone`: lock, read, put, in its own savepoint of the batch's transaction) or with the
 * plans queued next to it (`many`): one round trip locks and reads the configs and schemas of
 * them all, the domain decides each in queue order on the state the ones before it left, and one
 * statement stores those it accepted, with consecutive revisions in that order. A refused write
 * is left out of that statement, so it fails alone and takes no revision. `bench/README.md`
 * has the numbers.
 */
import type { Sql } from 'postgres'
import type { Precondition, ReplaceResult, StoredConfig, WriteMeta } from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import type { SchemaValidators } from '../../configs/schema-validator.ts'
import { type CurrentConfig, type DeleteWrite, decideWrite, type StoreWrite } from '../../configs/write-rules.ts'
import { type BatchPut, lockAndReadMany, putMany } from './batch-queries.ts'
import type { Outcome } from './group-commit.ts'
import { deleteConfig, lockAndRead, putConfig, type Slot } from './postgres-queries.ts'
import type { WriteResult } from './write-results.ts'

/** What a write answers from: the config it stored, or the revision of its delete. */
export type Done<W> = W extends DeleteWrite ? { write: W; revision: number } : { write: W; stored: StoredConfig }

export interface ConfigWritePlan<W extends StoreWrite | DeleteWrite = StoreWrite | DeleteWrite, T = WriteResult> {
  readonly dcname: string
  readonly meta: WriteMeta
  /** decideWrite on the config as found under the write lock; throws the write's refusal. */
  decide(current: CurrentConfig | undefined): W
  answer(done: Done<W>): T
}

export class ConfigWrites {
  constructor(
    readonly validators: SchemaValidators,
    private readonly now: () => number,
  ) {}

  /** One plan: its lock and reads, then its put or delete. */
  async alone<W extends StoreWrite | DeleteWrite, T>(tx: Sql, plan: ConfigWritePlan<W, T>): Promise<T> {
    const { slot, current } = await lockAndRead(tx, plan.dcname)
    const write = plan.decide(current)
    if (write.type === 'DELETED') {
      await deleteConfig(tx, slot, write.dcname, plan.meta, this.now())
      return plan.answer({ write, revision: slot.revision } as Done<W>)
    }
    return plan.answer({ write, stored: await this.put(tx, slot, write, plan.meta) } as Done<W>)
  }

  /**
   * The plans together, in order; an outcome each. Throws only when a statement failed (the
   * server refused a value, the connection went): the caller undoes the batch and decides.
   */
  async many(
    tx: Sql,
    plans: readonly ConfigWritePlan[],
    late: (i: number) => Outcome<WriteResult> | undefined = () => undefined,
  ): Promise<Outcome<WriteResult>[]> {
    const reads = await lockAndReadMany(tx, [...new Set(plans.map((plan) => plan.dcname))])
    const state = reads.current
    let revision = reads.revision
    const puts: BatchPut[] = []
    const outcomes = plans.map((plan, i): Outcome<WriteResult> => {
      const waited = late(i)
      if (waited) return waited
      try {
        const current = state.get(plan.dcname)
        const write = plan.decide(current)
        if (write.type === 'DELETED') {
          revision += 1
          puts.push({ ...base(plan, revision, 'DELETED'), body: write.last.body, previous: null })
          state.delete(plan.dcname)
          return { ok: true, value: plan.answer({ write, revision }) }
        }
        const warning = this.validators.check(write.config, reads.schemas.get(plan.dcname))
        revision += 1
        const body = JSON.stringify(write.config)
        const previous = write.type === 'MODIFIED' ? (current?.body ?? null) : null
        puts.push({ ...base(plan, revision, write.type), body, previous })
        state.set(plan.dcname, { body, revision })
        const stored = warning ? { config: write.config, revision, warning } : { config: write.config, revision }
        return { ok: true, value: plan.answer({ write, stored }) }
      } catch (error) {
        return { ok: false, error }
      }
    })
    if (puts.length > 0) await putMany(tx, puts, this.now())
    return outcomes
  }

  /** Checked against the schema in the slot: the one governing the dcname under the write lock. */
  async put(tx: Sql, slot: Slot, { type, config }: StoreWrite, meta: WriteMeta): Promise<StoredConfig> {
    const warning = this.validators.check(config, slot.schema)
    await putConfig(tx, slot, type, config, meta, this.now())
    return warning ? { config, revision: slot.revision, warning } : { config, revision: slot.revision }
  }
}

/** The plans of the store's config writes: each the domain's decision, and what the write answers. */
export const plans = {
  create: (config: Config, meta: WriteMeta): ConfigWritePlan<StoreWrite, StoredConfig> => ({
    dcname: config.dcname,
    meta,
    decide: (current) => decideWrite({ kind: 'create', config }, current),
    answer: ({ stored }) => stored,
  }),
  replace: (
    config: Config,
    precondition: Precondition,
    meta: WriteMeta,
  ): ConfigWritePlan<StoreWrite, ReplaceResult> => ({
    dcname: config.dcname,
    meta,
    decide: (current) => decideWrite({ kind: 'replace', config, precondition }, current),
    answer: ({ write, stored }) => ({ stored, created: write.created }),
  }),
  update: (
    dcname: string,
    change: (current: Config) => Config,
    precondition: Precondition,
    meta: WriteMeta,
  ): ConfigWritePlan<StoreWrite, StoredConfig> => ({
    dcname,
    meta,
    decide: (current) => decideWrite({ kind: 'update', dcname, change, precondition }, current),
    answer: ({ stored }) => stored,
  }),
  delete: (dcname: string, precondition: Precondition, meta: WriteMeta): ConfigWritePlan<DeleteWrite, number> => ({
    dcname,
    meta,
    decide: (current) => decideWrite({ kind: 'delete', dcname, precondition }, current),
    answer: ({ revision }) => revision,
  }),
}

function base(plan: ConfigWritePlan, revision: number, type: BatchPut['type']) {
  return { revision, type, dcname: plan.dcname, meta: plan.meta }
}
