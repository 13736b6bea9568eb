/**
 * The watchers of one SQLite store: every committed event is handed to each of them, in commit
 * order, after the commit (a PostgreSQL store has a change feed instead: other replicas write too).
 */
import type { ChangeEvent, ChangeListener } from '../../configs/config-store.ts'

export class ChangeListeners {
  private readonly listeners = new Set<ChangeListener>()

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  publish(event: ChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A failing watcher must never fail the write that already committed.
      }
    }
  }
}
