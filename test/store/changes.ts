/** Reading a store's kept history whole, for tests, through the paged ConfigStore.changesAfter. */
import type { ChangeEvent, ConfigStore } from '../../src/configs/config-store.ts'

/**
 * Every kept event after `after`, in pages of `pageEvents` (small by default, so that reading a
 * few events crosses pages); HistoryCompactedError as changesAfter.
 */
export async function allChangesAfter(store: ConfigStore, after: number, pageEvents = 2): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = []
  let position = after
  for (;;) {
    const page = await store.changesAfter({ after: position, limit: pageEvents, bytes: 1 << 30 })
    events.push(...page.events)
    position = page.events.at(-1)?.revision ?? position
    if (!page.more) return events
  }
}
