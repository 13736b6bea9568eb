/**
 * The configs as one caller may see and change them: every method authorizes the caller's
 * principal for its action (and the config it names) before it touches the store, and lists,
 * searches, watches and history show only what lies inside the caller's prefixes. Handlers get
 * this, never the store itself, so a request that reached a handler without the access gate's
 * decision (a gate left out, a route wrongly declared open) is refused here all the same: the
 * policy is checked after routing, where the action and the config are certain, as Kubernetes
 * authorizes a request once its resource is known.
 */
import { type Action, actorOf, authorize, narrowPrefixes, type Principal } from './access.ts'
import type {
  ConfigHistory,
  ConfigReader,
  ConfigWriter,
  HistoryPage,
  HistoryQuery,
  ListPage,
  ListQuery,
  Precondition,
  ReplaceResult,
  StoredConfig,
  WriteMeta,
} from './config-store.ts'
import type { Config } from './model.ts'

/** A list query as a caller asks it: `prefix`, a name prefix, is narrowed to its scope. */
export type RequestedListQuery = Omit<ListQuery, 'prefixes'> & { prefix?: string }

/** Who acts, and in which request (the id its history entry keeps). */
export interface Caller {
  readonly principal: Principal | undefined
  readonly requestId: string
  /** Only run its writes and answer what they would store (see dry-run.ts). */
  readonly dryRun?: boolean
  /** The rollout on whose behalf the caller writes (its id goes into history and events). */
  readonly rollout?: string
}

type Reader = Pick<ConfigReader, 'get' | 'list'> & Pick<ConfigHistory, 'getAt' | 'history'>
/** Seeding is the service's, at start-up: no caller seeds. */
type Writer = Omit<ConfigWriter, 'seed'>

export class AuthorizedConfigs {
  constructor(private readonly store: Reader & Writer) {}

  /**
   * A page of configs inside the caller's prefixes (`search`: the same, asked as a search), and
   * when the query asks for a name `prefix`, inside that too (see narrowPrefixes).
   */
  list(caller: Caller, query: RequestedListQuery, action: 'list' | 'search' = 'list'): Promise<ListPage> {
    const { prefix, ...rest } = query
    return this.store.list({ ...rest, prefixes: narrowPrefixes(this.scope(caller, action), prefix) })
  }

  /**
   * The dcname prefixes a watch of this caller is limited to (undefined: every config): its
   * scope, narrowed to the name `prefix` the watch asks for.
   */
  watchScope(caller: Caller, prefix?: string): readonly string[] | undefined {
    return narrowPrefixes(this.scope(caller, 'watch'), prefix)
  }

  get(caller: Caller, dcname: string): Promise<StoredConfig | undefined> {
    authorize(caller.principal, 'get', dcname)
    return this.store.get(dcname)
  }

  getAt(caller: Caller, dcname: string, revision: number): Promise<StoredConfig | undefined> {
    authorize(caller.principal, 'get', dcname)
    return this.store.getAt(dcname, revision)
  }

  history(caller: Caller, dcname: string, query: HistoryQuery): Promise<HistoryPage> {
    authorize(caller.principal, 'history', dcname)
    return this.store.history(dcname, query)
  }

  create(caller: Caller, config: Config): Promise<StoredConfig> {
    return this.store.create(config, this.writeMeta(caller, 'create', config.dcname))
  }

  replace(caller: Caller, config: Config, precondition: Precondition): Promise<ReplaceResult> {
    return this.store.replace(config, precondition, this.writeMeta(caller, 'replace', config.dcname))
  }

  update(
    caller: Caller,
    dcname: string,
    change: (current: Config) => Config,
    precondition: Precondition,
  ): Promise<StoredConfig> {
    return this.store.update(dcname, change, precondition, this.writeMeta(caller, 'patch', dcname))
  }

  delete(caller: Caller, dcname: string, precondition: Precondition): Promise<number> {
    return this.store.delete(dcname, precondition, this.writeMeta(caller, 'delete', dcname))
  }

  rollback(caller: Caller, dcname: string, revision: number, precondition: Precondition): Promise<ReplaceResult> {
    return this.store.rollback(dcname, revision, precondition, this.writeMeta(caller, 'rollback', dcname))
  }

  /** Authorizes an action on no one config; the prefixes its results are limited to. */
  private scope(caller: Caller, action: Action): readonly string[] | undefined {
    authorize(caller.principal, action)
    return caller.principal?.prefixes
  }

  /** Authorizes a write; who made it, for its history entry. */
  private writeMeta(caller: Caller, action: Action, dcname: string): WriteMeta {
    authorize(caller.principal, action, dcname)
    const meta: WriteMeta = { actor: actorOf(caller.principal), requestId: caller.requestId, dryRun: caller.dryRun }
    return caller.rollout === undefined ? meta : { ...meta, rollout: caller.rollout }
  }
}
