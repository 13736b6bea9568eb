/**
 * Dry runs (`?dryRun=true`, as Kubernetes' dryRun=All): a store runs the write whole, under its
 * lock, checks and all, then throws DryRunOutcome to undo it (as any failed write is undone);
 * the caller gets the value the write would have answered, and nothing was stored, published
 * or kept in history.
 */
export class DryRunOutcome<T> extends Error {
  constructor(readonly value: T) {
    super('dry run: undone')
    this.name = 'DryRunOutcome'
  }
}

/** The value of a write that threw DryRunOutcome to undo itself. */
export async function undone<T>(write: Promise<unknown>): Promise<T> {
  try {
    await write
  } catch (error) {
    if (error instanceof DryRunOutcome) return error.value as T
    throw error
  }
  throw new Error('a dry run was not undone')
}

/**
 * Runs `work` through `enqueue` (a store's way to run it in a write transaction); with `dryRun`,
 * the same work, undone at its end. `work` may be synchronous (SQLite) or not (PostgreSQL).
 */
export function writeOrDryRun<A, R, T>(
  dryRun: boolean | undefined,
  enqueue: (work: (arg: A) => R) => Promise<T>,
  work: (arg: A) => R,
): Promise<T> {
  if (!dryRun) return enqueue(work)
  return undone<T>(
    enqueue((arg) => {
      const value = work(arg)
      if (value instanceof Promise) {
        return value.then((resolved) => {
          throw new DryRunOutcome(resolved)
        }) as R
      }
      throw new DryRunOutcome(value)
    }),
  )
}
