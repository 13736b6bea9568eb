/**
 * How many configs the list's filters match in all, not only on the page shown, kept live by
 * the list's watch. The API answers pages without a count, so the names are counted from one
 * page of up to COUNT_LIMIT (the API's largest page, read only when the list does not fit on
 * the page shown): past it, the total is "more than COUNT_LIMIT". The names themselves are kept
 * so that a watch event counts once, whatever the order in which the two answers arrive.
 */
import { api, nextLink } from './api.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {import('./watch.js').WatchEvent} WatchEvent
 * @typedef {{ count: number, exact: boolean } | null} Total null while it is counted
 */

export const COUNT_LIMIT = 10_000

/**
 * @param {(total: Total) => void} onTotal
 */
export function liveTotal(onTotal) {
  /** @type {Set<string> | null} null until counted, or when it could not be */
  let names = null
  let exact = true
  let counting = true
  /** Events that arrived before the count, sorted out by the revision the count was read at. */
  /** @type {WatchEvent[]} */
  const early = []

  /** @param {WatchEvent} event */
  const apply = (event) => {
    if (!names || !exact) return
    if (event.type === 'DELETED') names.delete(event.config.dcname)
    else names.add(event.config.dcname)
  }
  const publish = () => onTotal(names ? { count: names.size, exact } : null)

  /**
   * @param {Config[]} configs the names counted
   * @param {boolean} complete whether they are every match
   * @param {number} revision the store revision they were read at
   */
  const counted = (configs, complete, revision) => {
    counting = false
    names = new Set(configs.map((config) => config.dcname))
    exact = complete
    for (const event of early.splice(0)) if (event.revision > revision) apply(event)
    publish()
  }
  const giveUp = () => {
    counting = false
    early.length = 0
  }

  return {
    /**
     * Starts from the page listed: it is the whole list when it is the first page and has no next.
     * @param {{ listed: Config[], whole: boolean, revision: number, filters: URLSearchParams, signal: AbortSignal }} from
     */
    async start({ listed, whole, revision, filters, signal }) {
      publish()
      if (whole) return counted(listed, true, revision)
      const query = new URLSearchParams(filters)
      query.set('limit', String(COUNT_LIMIT))
      try {
        const response = await api(`/configs?${query}`, { signal })
        if (!signal.aborted) {
          counted(response.body, !nextLink(response.headers), Number(response.headers.get('x-revision') ?? 0))
        }
      } catch {
        // Without a count the page still works: the caption says only what the page holds.
        giveUp()
      }
    },
    /** @param {WatchEvent} event */
    event(event) {
      if (counting) {
        // Held for as long as one answer takes, and never more than a count's worth.
        if (early.length < COUNT_LIMIT) early.push(event)
        else giveUp()
        return
      }
      apply(event)
      if (names && exact) publish()
    },
  }
}
