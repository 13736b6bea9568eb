/**
 * The consumers gate: the programs applying the configs (agents reporting to
 * /configs/{dcname}/consumers) must acknowledge what the rollout wrote. Over every config the
 * rollout has applied so far, a live consumer that rejected the revision fails the gate at once;
 * otherwise the share of live consumers that applied it (or a later one) must reach `applied`
 * within `within` of the wave's write. Until then the gate waits: the bake does not end. Configs
 * no live consumer reports on count for nothing either way (no one is there to acknowledge).
 */
import type { ConsumerSummary } from '../consumers.ts'
import type { GateVerdict } from './rollout-gates.ts'
import type { Rollout } from './rollout-model.ts'

export interface ConsumerSummaries {
  summary(dcname: string, revision?: number): Promise<ConsumerSummary>
}

export async function consumersGate(
  gate: { applied: number; withinMs: number },
  rollout: Rollout,
  summaries: ConsumerSummaries,
  now: number,
): Promise<GateVerdict> {
  let live = 0
  let applied = 0
  for (const progress of rollout.configs) {
    if (progress.state !== 'applied' || progress.applied === undefined) continue
    const summary = await summaries.summary(progress.dcname, progress.applied)
    const [rejected] = summary.rejected
    if (rejected) {
      const why = rejected.message ? `: ${rejected.message}` : ''
      return {
        pass: false,
        reason: `consumer ${rejected.consumer} of ${progress.dcname} rejected revision ${rejected.revision}${why}`,
      }
    }
    live += summary.live
    applied += summary.applied
  }
  if (live === 0 || applied / live >= gate.applied) return { pass: true }
  const share = `${applied} of ${live} consumers applied the rollout's revisions (${gate.applied * 100}% needed)`
  const appliedAt = (rollout.bakeUntil ?? now) - rollout.plan.bakeMs
  if (now - appliedAt >= gate.withinMs) return { pass: false, reason: `${share} within ${gate.withinMs} ms` }
  return { pass: true, waiting: share }
}
