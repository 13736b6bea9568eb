/**
 * Rollouts as one caller may see and steer them, as AuthorizedConfigs is for configs. Creating
 * one resolves its target within the caller's prefixes, authorizes a `patch` of every targeted
 * config, and checks the change against each (so a rollout never starts that some config would
 * refuse). Steering one (pause, resume, abort, approve) asks `write-rollout` on all its configs;
 * an approval must come from another actor than the creator (four eyes).
 */
import { actorOf, authorize, covers, type Principal } from '../access.ts'
import type { AuthorizedConfigs, Caller } from '../authorized-configs.ts'
import type { StoredConfig } from '../config-store.ts'
import { MAX_LIMIT } from '../list-limits.ts'
import { changedConfig } from './rollout-change.ts'
import type { RolloutFeed } from './rollout-feed.ts'
import {
  ACTIVE_STATUSES,
  type Rollout,
  RolloutInvalidError,
  RolloutNotFoundError,
  RolloutStateError,
  type RolloutTarget,
  startWave,
  withEvent,
} from './rollout-model.ts'
import {
  bakeOf,
  changeOf,
  type GateSupport,
  gatesOf,
  type RolloutRequest,
  resolveWaves,
  targetOf,
} from './rollout-spec.ts'
import type { RolloutListQuery, RolloutStore, StoredRollout } from './rollout-store.ts'
import { updateRollout } from './rollout-store.ts'
import type { RolloutWatch } from './rollout-watch.ts'

/** A rollout changes at most this many configs. */
export const MAX_ROLLOUT_CONFIGS = MAX_LIMIT

export interface RolloutsDeps {
  store: RolloutStore
  configs: AuthorizedConfigs
  gates: GateSupport
  now?: () => number
  newId?: () => string
  /** Told of every change, so the driver acts at once rather than at its next poll. */
  onChange?: () => void
  /** Rollout events for watches; left out, a watch is refused. */
  feed?: RolloutFeed
}

export class AuthorizedRollouts {
  private readonly now: () => number
  private readonly newId: () => string

  constructor(private readonly deps: RolloutsDeps) {
    this.now = deps.now ?? Date.now
    this.newId = deps.newId ?? (() => `ro-${crypto.randomUUID().slice(0, 13)}`)
  }

  async create(caller: Caller, request: RolloutRequest): Promise<StoredRollout> {
    authorize(caller.principal, 'write-rollout')
    const change = changeOf(request)
    const target = targetOf(request)
    const bakeMs = bakeOf(request)
    const gates = gatesOf(request, this.deps.gates)
    const targeted = await this.resolve(caller, target)
    for (const stored of targeted) {
      authorize(caller.principal, 'patch', stored.config.dcname)
      changedConfig(stored.config, change)
    }
    const waves = resolveWaves(
      request,
      targeted.map((s) => s.config.dcname),
    )
    const approvals = request.approval?.required ?? 0
    const principal = caller.principal as Principal
    const id = this.newId()
    const rollout: Rollout = {
      id,
      createdBy: { actor: actorOf(principal), role: principal.role, prefixes: principal.prefixes },
      createdAt: this.now(),
      plan: { change, target, waves, bakeMs, gates, approvals, onFailure: request.onFailure ?? 'revert' },
      status: 'pending-approval',
      wave: -1,
      approvedBy: [],
      configs: waves.flatMap((names, wave) => names.map((dcname) => ({ dcname, wave, state: 'pending' as const }))),
      timeline: [],
    }
    const detail = `${targeted.length} config(s) in ${waves.length} wave(s)`
    const created = withEvent(rollout, { time: this.now(), event: 'created', detail })
    // With no approval to wait for, the first wave starts with the rollout: its first answer says
    // so, rather than a "pending-approval" that would last until the executor's next tick.
    const stored = await this.deps.store.create(approvals === 0 ? startWave(created, 0, this.now()) : created)
    this.deps.onChange?.()
    return stored
  }

  /**
   * The rollouts whose every config the caller may read, and `revision`: the newest rollout event
   * logged before the page was read (a watch from it misses nothing that came after the page).
   */
  async list(
    caller: Caller,
    query: RolloutListQuery,
  ): Promise<{ items: StoredRollout[]; more: boolean; revision: number }> {
    authorize(caller.principal, 'read-rollouts')
    const revision = await this.deps.store.newestEvent()
    const page = await this.deps.store.list(query)
    return { ...page, items: page.items.filter((s) => this.sees(caller, s.rollout)), revision }
  }

  /** The events of the rollouts the caller may read, as `list` shows them: live, and replayed from the log. */
  watch(caller: Caller): RolloutWatch {
    authorize(caller.principal, 'read-rollouts')
    const feed = this.deps.feed
    if (!feed) throw new RolloutStateError('this service has no rollout events to watch')
    const store = this.deps.store
    const principal = caller.principal
    return {
      subscribe: (listener, onLost) => feed.subscribe(listener, onLost),
      newest: () => store.newestEvent(),
      eventsAfter: (after, limit) => store.eventsAfter(after, limit),
      view: {
        see: (event) =>
          principal === undefined || event.dcnames.every((dcname) => covers(principal, dcname)) ? event : undefined,
      },
    }
  }

  async get(caller: Caller, id: string): Promise<StoredRollout> {
    authorize(caller.principal, 'read-rollouts')
    const stored = await this.deps.store.get(id)
    if (!stored || !this.sees(caller, stored.rollout)) throw new RolloutNotFoundError(id)
    return stored
  }

  approve(caller: Caller, id: string): Promise<StoredRollout> {
    const actor = actorOf(caller.principal)
    return this.steer(caller, id, 'approved', (r) => {
      if (r.status !== 'pending-approval' && r.pausedFrom !== 'pending-approval') {
        throw new RolloutStateError(`rollout ${id} is ${r.status}: it needs no approval`)
      }
      if (actor === r.createdBy.actor)
        throw new RolloutStateError(`${actor} created rollout ${id}: another actor must approve it`)
      if (r.approvedBy.includes(actor)) throw new RolloutStateError(`${actor} approved rollout ${id} already`)
      return { ...r, approvedBy: [...r.approvedBy, actor] }
    })
  }

  pause(caller: Caller, id: string): Promise<StoredRollout> {
    return this.steer(caller, id, 'paused', (r) => {
      if (r.status === 'paused' || !ACTIVE_STATUSES.includes(r.status)) {
        throw new RolloutStateError(`rollout ${id} is ${r.status}: it cannot be paused`)
      }
      const from = r.status as NonNullable<Rollout['pausedFrom']>
      return { ...r, status: 'paused', pausedFrom: from, reason: `paused by ${actorOf(caller.principal)}` }
    })
  }

  resume(caller: Caller, id: string): Promise<StoredRollout> {
    return this.steer(caller, id, 'resumed', (r) => {
      if (r.status !== 'paused' || !r.pausedFrom)
        throw new RolloutStateError(`rollout ${id} is ${r.status}: it is not paused`)
      const from = r.pausedFrom
      const configs = r.configs.map((c) => {
        // The edited config: applying, its new revision becomes its baseline; reverting, it is left as edited.
        if (c.dcname !== r.conflict) return c
        if (from === 'reverting') return c.state === 'applied' ? { ...c, state: 'kept' as const } : c
        return c.state === 'pending' ? { ...c, before: undefined } : c
      })
      const bakeUntil = from === 'baking' ? this.now() + r.plan.bakeMs : r.bakeUntil
      return { ...r, configs, status: from, pausedFrom: undefined, conflict: undefined, reason: undefined, bakeUntil }
    })
  }

  /** Reverts every config the rollout changed, then ends as `aborted`. */
  abort(caller: Caller, id: string): Promise<StoredRollout> {
    return this.steer(caller, id, 'abort', (r) => {
      if (!ACTIVE_STATUSES.includes(r.status)) throw new RolloutStateError(`rollout ${id} is ${r.status} already`)
      const reason = `aborted by ${actorOf(caller.principal)}`
      const applied = r.configs.some((c) => c.before !== undefined)
      return applied
        ? { ...r, status: 'reverting', aborting: true, pausedFrom: undefined, reason }
        : { ...r, status: 'aborted', pausedFrom: undefined, reason }
    })
  }

  private async steer(
    caller: Caller,
    id: string,
    event: string,
    change: (rollout: Rollout) => Rollout,
  ): Promise<StoredRollout> {
    authorize(caller.principal, 'write-rollout')
    const stored = await this.deps.store.get(id)
    if (!stored || !this.sees(caller, stored.rollout)) throw new RolloutNotFoundError(id)
    for (const c of stored.rollout.configs) authorize(caller.principal, 'write-rollout', c.dcname)
    const detail = `by ${actorOf(caller.principal)}`
    const saved = await updateRollout(
      this.deps.store,
      id,
      (r) => withEvent(change(r), { time: this.now(), event, detail }),
      () => new RolloutNotFoundError(id),
    )
    this.deps.onChange?.()
    return saved
  }

  private sees(caller: Caller, rollout: Rollout): boolean {
    const principal = caller.principal
    return principal === undefined || rollout.configs.every((c) => covers(principal, c.dcname))
  }

  /** The targeted configs, in dcname order, inside the caller's prefixes. */
  private async resolve(caller: Caller, target: RolloutTarget): Promise<StoredConfig[]> {
    const found: StoredConfig[] = []
    const named = target.dcnames && new Set(target.dcnames)
    if (named && target.prefix === undefined && target.filters === undefined) {
      for (const dcname of [...named].sort()) {
        const stored = await this.deps.configs.get(caller, dcname)
        if (!stored) throw missing(dcname)
        found.push(stored)
      }
    } else {
      let after: string | undefined
      for (;;) {
        const query = { filters: target.filters ?? [], limit: 1000, after, prefix: target.prefix }
        const page = await this.deps.configs.list(caller, query)
        found.push(...page.items.filter((s) => !named || named.has(s.config.dcname)))
        if (!page.more || found.length > MAX_ROLLOUT_CONFIGS) break
        after = page.items.at(-1)?.config.dcname
      }
      const missed = target.dcnames?.find((dcname) => !found.some((s) => s.config.dcname === dcname))
      if (missed !== undefined) throw missing(missed)
    }
    if (found.length === 0)
      throw new RolloutInvalidError('the target matches no config', [
        { pointer: '/target', message: 'no config matches' },
      ])
    if (found.length > MAX_ROLLOUT_CONFIGS) {
      throw new RolloutInvalidError(`the target matches more than ${MAX_ROLLOUT_CONFIGS} configs`, [
        { pointer: '/target', message: 'too many configs' },
      ])
    }
    return found
  }
}

function missing(dcname: string): RolloutInvalidError {
  return new RolloutInvalidError(
    `the target names ${JSON.stringify(dcname)}, which does not exist or matches no other criterion`,
    [{ pointer: '/target/dcnames', message: `${dcname} is not a targeted config` }],
  )
}
