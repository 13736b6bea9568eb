/**
 * Waiting for a condition instead of for a fixed time: the machine the tests run on is shared
 * and busy, so how long anything takes is no evidence; only what happened is.
 */

/**
 * The bound on a wait for something a service process must do sooner or later (a log line, a
 * background job): a stop for what never comes, far above any delay on a busy machine and under
 * the 60 s test timeout `make test` uses. Never a measure of how soon it came.
 */
export const PROCESS_WAIT_MS = 45_000

/**
 * Polls `condition` until it gives a truthy value and returns that value; fails after
 * `timeoutMs` naming `what` (a function is called then, to describe the state at that moment).
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  timeoutMs = 5000,
  what: string | (() => string) = 'a condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`)
    }
    await Bun.sleep(10)
  }
}
