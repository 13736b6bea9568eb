/**
 * Gates are evaluated by adapters (a Prometheus query over HTTP, the consumers' reports); the
 * domain only asks each for a verdict. `unavailable`: the gate could not be evaluated (Prometheus
 * unreachable): that says nothing against the change, so the rollout pauses rather than reverts.
 */
import type { Rollout, RolloutGate } from './rollout-model.ts'

/** `waiting`: nothing against the change yet, but not enough for the bake to end (why, in words). */
export type GateVerdict = { pass: true; waiting?: string } | { pass: false; reason: string; unavailable?: boolean }

export interface GateEvaluator {
  evaluate(gate: RolloutGate, rollout: Rollout): Promise<GateVerdict>
}

/** The first gate that does not pass, else the first that waits, else a pass (in the order declared). */
export async function evaluateGates(evaluator: GateEvaluator, rollout: Rollout): Promise<GateVerdict> {
  let waiting: string | undefined
  for (const gate of rollout.plan.gates) {
    const verdict = await evaluator.evaluate(gate, rollout)
    if (!verdict.pass) return verdict
    waiting ??= verdict.waiting
  }
  return waiting === undefined ? { pass: true } : { pass: true, waiting }
}

export function describeGate(gate: RolloutGate): string {
  if ('prometheus' in gate) return `prometheus ${JSON.stringify(gate.prometheus)}`
  return `consumers applied >= ${gate.consumers.applied} within ${gate.consumers.withinMs} ms`
}
