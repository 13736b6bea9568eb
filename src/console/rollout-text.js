/**
 * What the rollout pages say of a rollout (GET /rollouts, GET /rollouts/<id>), in words: its
 * change and target in one line, its progress.
 */

/**
 * @typedef {{ pending: number, applied: number, reverted: number, kept: number }} Counts
 * @typedef {{ merge?: Record<string, unknown>, metadata?: Record<string, unknown> }} Change
 * @typedef {{ prefix?: string, filters?: { path: string[], value: string }[], named?: number }} TargetSummary
 * @typedef {{ id: string, status: string, wave: number, waves: number, createdBy: string, createdAt: string,
 *   approvedBy: string[], bakeUntil?: string, reason?: string, counts: Counts, change: Change,
 *   target: TargetSummary }} RolloutSummary
 * @typedef {{ dcname: string, wave: number, state: 'pending' | 'applied' | 'reverted' | 'kept', before?: number, applied?: number, reverted?: number }} ConfigProgress
 * @typedef {{ seq?: number, time: string, event: string, wave?: number, dcname?: string, detail?: string }} TimelineEntry
 * @typedef {{ prometheus: string } | { consumers: { applied: number, withinMs: number } }} Gate
 * @typedef {{ change: { merge?: Record<string, unknown>, metadata?: Record<string, unknown> },
 *   target: { prefix?: string, filters?: { path: string[], value: string }[], dcnames?: string[] },
 *   waves: string[][], bakeMs: number, gates: Gate[], approvals: number, onFailure: string }} Plan
 * @typedef {RolloutSummary & { plan: Plan, configs: ConfigProgress[], timeline: TimelineEntry[] }} Rollout
 */

/** As GET /rollouts lists it (a rollout read whole has it too). @param {Change} change */
export function changeText(change) {
  return change.merge ? `merge ${JSON.stringify(change.merge)}` : `set metadata ${JSON.stringify(change.metadata)}`
}

/** As GET /rollouts lists it: the names a target lists are counted (`named`). @param {TargetSummary} target */
export function targetText(target) {
  const parts = []
  if (target.prefix) parts.push(`prefix ${target.prefix}`)
  for (const filter of target.filters ?? []) parts.push(filterText(filter))
  if (target.named) parts.push(`${target.named} named config${target.named === 1 ? '' : 's'}`)
  return parts.length > 0 ? parts.join(', ') : 'every config'
}

/** As the list's query names it: metadata.team=checkout. @param {{ path: string[], value: string }} filter */
function filterText(filter) {
  return `${filter.path.join('.')}=${filter.value}`
}

/**
 * "wave 2 of 4, 21 of 60 applied".
 * @param {RolloutSummary} rollout
 */
export function progressText(rollout) {
  const { counts } = rollout
  const total = counts.pending + counts.applied + counts.reverted + counts.kept
  const wave =
    rollout.wave < 0 ? `not started (${rollout.waves} waves)` : `wave ${rollout.wave + 1} of ${rollout.waves}`
  const extra = [counts.reverted ? `${counts.reverted} reverted` : '', counts.kept ? `${counts.kept} kept` : '']
  return [wave, `${counts.applied} of ${total} applied`, ...extra.filter(Boolean)].join(', ')
}

/** @param {Gate} gate */
export function gateText(gate) {
  if ('prometheus' in gate) return `Prometheus: no series from ${gate.prometheus}`
  const share = Math.round(gate.consumers.applied * 100)
  return `Consumers: ${share}% applied within ${durationText(gate.consumers.withinMs)}`
}

/** @param {number} ms */
export function durationText(ms) {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000} min`
  if (ms % 1000 === 0) return `${ms / 1000} s`
  return `${ms} ms`
}
