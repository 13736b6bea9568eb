/**
 * One step of a rollout at a time: the driver (rollout-driver.ts) calls `step` and saves what it
 * returns. Every step is safe to run again after a crash, because what a config's write did is
 * read back from the store, not only from the rollout: a config whose newest history entry is
 * this rollout's write was applied, one whose revision moved otherwise was edited by someone
 * else (which pauses the rollout, naming it). Writes go through AuthorizedConfigs as the creator,
 * with If-Match against the revision the wave started from (or, reverting, the one applied).
 */
import type { Principal } from '../access.ts'
import type { AuthorizedConfigs, Caller } from '../authorized-configs.ts'
import { PreconditionFailedError } from '../config-store.ts'
import { changedConfig } from './rollout-change.ts'
import { describeGate, evaluateGates, type GateEvaluator } from './rollout-gates.ts'
import { type ConfigProgress, type Rollout, RolloutInvalidError, startWave, withEvent } from './rollout-model.ts'

/** One write the rollout made, for the audit trail and metrics. */
export interface RolloutWrite {
  rollout: string
  actor: string
  action: 'patch' | 'rollback'
  dcname: string
  revision: number
}

export interface RolloutWorld {
  configs: AuthorizedConfigs
  gates: GateEvaluator
  now: () => number
  onWrite?: (write: RolloutWrite) => void
}

/** The rollout after its next step, or undefined when nothing is due now. */
export async function step(rollout: Rollout, world: RolloutWorld): Promise<Rollout | undefined> {
  switch (rollout.status) {
    case 'pending-approval':
      return rollout.approvedBy.length >= rollout.plan.approvals ? startWave(rollout, 0, world.now()) : undefined
    case 'applying':
      return waveConfigs(rollout).some((c) => c.state === 'pending' && c.before === undefined)
        ? recordBefore(rollout, world)
        : applyWave(rollout, world)
    case 'baking':
      return bake(rollout, world)
    case 'reverting':
      return revert(rollout, world)
    default:
      return undefined
  }
}

export function callerOf(rollout: Rollout): Caller {
  const principal: Principal = { ...rollout.createdBy }
  return { principal, requestId: `rollout-${rollout.id}`, rollout: rollout.id }
}

function waveConfigs(rollout: Rollout): ConfigProgress[] {
  return rollout.configs.filter((c) => c.wave === rollout.wave)
}

/** Saved before any write of the wave: the revisions its If-Match and a revert go back to. */
async function recordBefore(rollout: Rollout, world: RolloutWorld): Promise<Rollout> {
  const caller = callerOf(rollout)
  const configs: ConfigProgress[] = []
  for (const progress of rollout.configs) {
    if (progress.wave !== rollout.wave || progress.state !== 'pending' || progress.before !== undefined) {
      configs.push(progress)
      continue
    }
    const current = await world.configs.get(caller, progress.dcname)
    if (!current)
      return pause(rollout, world, 'applying', `config ${progress.dcname} no longer exists`, progress.dcname)
    configs.push({ ...progress, before: current.revision })
  }
  return { ...rollout, configs }
}

async function applyWave(rollout: Rollout, world: RolloutWorld): Promise<Rollout> {
  const caller = callerOf(rollout)
  const configs = [...rollout.configs]
  for (const [i, progress] of configs.entries()) {
    if (progress.wave !== rollout.wave || progress.state !== 'pending') continue
    const before = progress.before as number
    const outcome = await applyOne(rollout, progress.dcname, before, world, caller)
    if (typeof outcome === 'string') {
      return pause({ ...rollout, configs }, world, 'applying', outcome, progress.dcname)
    }
    configs[i] = { ...progress, state: 'applied', applied: outcome }
  }
  const bakeUntil = world.now() + rollout.plan.bakeMs
  const baking = { ...rollout, configs, status: 'baking' as const, bakeUntil }
  return withEvent(baking, { time: world.now(), event: 'wave-applied', wave: rollout.wave })
}

/** The revision the rollout's write made, or why it could not write. */
async function applyOne(
  rollout: Rollout,
  dcname: string,
  before: number,
  world: RolloutWorld,
  caller: Caller,
): Promise<number | string> {
  const current = await world.configs.get(caller, dcname)
  if (!current) return `config ${dcname} no longer exists`
  if (current.revision !== before) {
    if (await lastWriteIs(rollout, dcname, current.revision, world, undefined)) return current.revision
    return editedBySomeoneElse(dcname, current.revision, before)
  }
  try {
    const change = (config: Parameters<typeof changedConfig>[0]) => changedConfig(config, rollout.plan.change)
    const stored = await world.configs.update(caller, dcname, change, { ifMatch: before })
    world.onWrite?.({ ...writeOf(rollout, dcname, stored.revision), action: 'patch' })
    return stored.revision
  } catch (error) {
    if (error instanceof PreconditionFailedError) return editedBySomeoneElse(dcname, error.currentRevision, before)
    if (error instanceof RolloutInvalidError) return error.message
    throw error
  }
}

async function bake(rollout: Rollout, world: RolloutWorld): Promise<Rollout | undefined> {
  const verdict = await evaluateGates(world.gates, rollout)
  if (!verdict.pass) {
    const reason = `wave ${rollout.wave + 1}: ${verdict.reason}`
    if (verdict.unavailable || rollout.plan.onFailure === 'pause') {
      return pause(rollout, world, 'baking', reason)
    }
    const failed = { ...rollout, status: 'reverting' as const, reason }
    return withEvent(failed, { time: world.now(), event: 'gate-failed', wave: rollout.wave, detail: verdict.reason })
  }
  // A gate still waiting (consumers yet to acknowledge) holds the bake open past its end.
  if (world.now() < (rollout.bakeUntil ?? 0) || verdict.waiting !== undefined) return undefined
  const gates = rollout.plan.gates.map(describeGate).join(', ') || 'no gates'
  const baked = withEvent(rollout, { time: world.now(), event: 'wave-baked', wave: rollout.wave, detail: gates })
  if (rollout.wave + 1 < rollout.plan.waves.length) return startWave(baked, rollout.wave + 1, world.now())
  return withEvent({ ...baked, status: 'completed', bakeUntil: undefined }, { time: world.now(), event: 'completed' })
}

/** Restores every config the rollout changed to its pre-rollout revision, newest wave first. */
async function revert(rollout: Rollout, world: RolloutWorld): Promise<Rollout> {
  const caller = callerOf(rollout)
  const configs = [...rollout.configs]
  for (let i = configs.length - 1; i >= 0; i--) {
    const progress = configs[i] as ConfigProgress
    if (progress.before === undefined || progress.state === 'reverted' || progress.state === 'kept') continue
    const current = await world.configs.get(caller, progress.dcname)
    // A write not yet recorded as applied (the driver stopped in the middle of a wave).
    const applied =
      progress.applied ??
      (current && (await lastWriteIs(rollout, progress.dcname, current.revision, world, undefined))
        ? current.revision
        : undefined)
    if (applied === undefined) {
      configs[i] = { ...progress, state: 'pending' }
      continue
    }
    if (current?.revision !== applied) {
      if (current && (await lastWriteIs(rollout, progress.dcname, current.revision, world, progress.before))) {
        configs[i] = { ...progress, applied, state: 'reverted', reverted: current.revision }
        continue
      }
      const why = current
        ? editedBySomeoneElse(progress.dcname, current.revision, applied)
        : `config ${progress.dcname} was deleted`
      return pause({ ...rollout, configs }, world, 'reverting', `revert: ${why}`, progress.dcname)
    }
    const { stored } = await world.configs.rollback(caller, progress.dcname, progress.before, { ifMatch: applied })
    world.onWrite?.({ ...writeOf(rollout, progress.dcname, stored.revision), action: 'rollback' })
    configs[i] = { ...progress, applied, state: 'reverted', reverted: stored.revision }
  }
  const status = rollout.aborting ? ('aborted' as const) : ('reverted' as const)
  const done = { ...rollout, configs, status, bakeUntil: undefined }
  return withEvent(done, { time: world.now(), event: status, detail: rollout.reason })
}

/**
 * Whether the config's newest history entry, at `revision`, is this rollout's write: its change
 * (`rollbackOf` undefined) or its revert to `rollbackOf`.
 */
async function lastWriteIs(
  rollout: Rollout,
  dcname: string,
  revision: number,
  world: RolloutWorld,
  rollbackOf: number | undefined,
): Promise<boolean> {
  const { entries } = await world.configs.history(callerOf(rollout), dcname, { limit: 1 })
  const last = entries[0]
  return last?.revision === revision && last.rollout === rollout.id && last.rollbackOf === rollbackOf
}

function pause(
  rollout: Rollout,
  world: RolloutWorld,
  from: NonNullable<Rollout['pausedFrom']>,
  reason: string,
  conflict?: string,
): Rollout {
  const paused = { ...rollout, status: 'paused' as const, pausedFrom: from, reason, conflict }
  return withEvent(paused, { time: world.now(), event: 'paused', wave: rollout.wave, dcname: conflict, detail: reason })
}

function editedBySomeoneElse(dcname: string, now: number | undefined, expected: number): string {
  if (now === undefined) return `config ${dcname} was deleted`
  return `config ${dcname} was changed by someone else (revision ${now}, expected ${expected})`
}

function writeOf(rollout: Rollout, dcname: string, revision: number): Omit<RolloutWrite, 'action'> {
  return { rollout: rollout.id, actor: rollout.createdBy.actor, dcname, revision }
}
