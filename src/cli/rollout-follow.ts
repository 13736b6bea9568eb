/**
 * `configctl rollout status ID --watch`: the rollout's status now, then one line per event until
 * it ends; exit 0 when it completed, 1 when it was reverted or aborted (a script can gate on it).
 * The watch starts after the newest timeline entry of the rollout as read, so a step taken
 * between the read and the watch is printed, not lost; a lost connection resumes (the client's
 * watch), and after a 410 the rollout is read again.
 */
import { type ConfigClient, type Rollout, RolloutClient, type RolloutWatchEvent } from '../client/index.ts'
import { EXIT, out } from './output.ts'

const FINAL = new Set(['completed', 'reverted', 'aborted'])

export async function followRollout(client: ConfigClient, id: string): Promise<number> {
  const rollouts = new RolloutClient(client)
  let rollout = await rollouts.status(id)
  out(statusLine(rollout))
  if (FINAL.has(rollout.status)) return exitOf(rollout.status)
  const seen = newestSeq(rollout)
  let last: number | undefined
  // An entry saved before the event log has seq 0: then the watch starts from now.
  for await (const item of rollouts.watch(seen > 0 ? { since: seen } : {})) {
    if (item.type === 'RELIST') {
      rollout = await rollouts.status(id)
      out(statusLine(rollout))
      if (FINAL.has(rollout.status)) return exitOf(rollout.status)
      continue
    }
    const event = item as RolloutWatchEvent
    if (event.id !== id) continue
    out(eventLine(event, rollout.waves))
    if (!FINAL.has(event.status)) continue
    // The save that ended it may have logged more entries (wave-baked, then completed): print them too.
    last ??= newestSeq(await rollouts.status(id))
    if (event.revision >= last) return exitOf(event.status)
  }
  return EXIT.failed
}

function newestSeq(rollout: Rollout): number {
  return Math.max(0, ...rollout.timeline.map((entry) => entry.seq ?? 0))
}

function exitOf(status: string): number {
  return status === 'completed' ? EXIT.ok : EXIT.failed
}

function statusLine(rollout: Rollout): string {
  const wave = rollout.wave < 0 ? '' : `, wave ${rollout.wave + 1}/${rollout.waves}`
  return `rollout/${rollout.id}: ${rollout.status}${wave}${rollout.reason ? ` (${rollout.reason})` : ''}`
}

/** `2026-01-01T00:00:00.000Z wave-applied: baking, wave 1/2`, and the entry's detail. */
function eventLine(event: RolloutWatchEvent, waves: number): string {
  const wave = event.wave < 0 ? '' : `, wave ${event.wave + 1}/${waves}`
  const about = [event.dcname, event.detail].filter(Boolean).join(': ')
  return `${event.time} ${event.type}: ${event.status}${wave}${about ? ` (${about})` : ''}`
}
