/**
 * The final `ERROR` event of a watch stream the service ends: a problem+json object saying why,
 * and what the client does next (watch again from the last revision it got, or list again).
 */
import { problem } from '../problem.ts'
import { sseEvent } from './sse.ts'

export interface Budget {
  heartbeatMs: number
  bufferEvents: number
  bufferBytes: number
}

/** The store cannot deliver without a gap (see ConfigStore.subscribe), or the history is gone. */
export function goneEvent(error: Error): string {
  const detail = `${error.message}; this watch cannot continue without a gap: list again, then watch`
  return problemEvent(410, 'gone', detail)
}

/** `stalled`: the client took nothing while its replay waited; else it fell past its budget. */
export function fellBehindEvent(budget: Budget, lastSent: number, stalled: boolean): string {
  const why = stalled
    ? `this watcher's client took nothing for ${budget.heartbeatMs} ms while its replay waited, and it was closed`
    : `this watcher fell more than ${budget.bufferEvents} events or ${budget.bufferBytes} bytes behind and was closed`
  return problemEvent(
    410,
    'watch-fell-behind',
    `${why}; watch again with since=${lastSent}, or list again if that answers 410`,
  )
}

/** A page of history after the first could not be read. */
export function storeUnavailableEvent(lastSent: number): string {
  return problemEvent(503, 'store-unavailable', `the store could not be read; watch again with since=${lastSent}`)
}

function problemEvent(status: number, kind: string, detail: string): string {
  return sseEvent('ERROR', JSON.stringify(problem(status, kind, detail)))
}
