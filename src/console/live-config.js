/**
 * One config as the detail page shows it, kept live: read once (GET /configs/<dcname>, whose
 * ETag is its revision), then followed by a watch filtered to its dcname, from the store
 * revision of a one-name list read just before (its X-Revision), so that no write falls between
 * the read and the watch. A 410 (that revision is no longer kept) reads it all again.
 */
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, configPath, revisionOf } from './api.js'
import { bannerNow, clearBanner, showError } from './banner.js'
import { watchConfigs } from './watch.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {import('./watch.js').WatchEvent} WatchEvent
 * @typedef {import('./watch.js').WatchState} WatchState
 * @typedef {{ status: 'loading' } | { status: 'found', config: Config, revision: number | undefined } | { status: 'missing' } | { status: 'failed' }} Loaded
 */

/**
 * The newer of what is shown and what was read or heard: an answer that was read before a
 * write, but arrives after its event, does not take the page back.
 * @param {Loaded} shown
 * @param {Loaded} next
 * @param {number} [revision] the revision of the change `next` comes from (a DELETED event has one)
 * @returns {Loaded}
 */
function newer(shown, next, revision) {
  if (shown.status !== 'found' || shown.revision === undefined) return next
  const nextRevision = next.status === 'found' ? next.revision : revision
  return nextRevision !== undefined && nextRevision <= shown.revision ? shown : next
}

/**
 * @param {string} dcname
 * @param {AbortSignal} [signal]
 * @returns {Promise<Loaded>}
 */
async function read(dcname, signal) {
  try {
    const response = await api(configPath(dcname), { signal })
    return { status: 'found', config: response.body, revision: revisionOf(response.headers) }
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { status: 'missing' }
    throw error
  }
}

/**
 * @param {string} dcname
 * @param {number} reloadKey
 */
export function useLiveConfig(dcname, reloadKey) {
  const [loaded, setLoaded] = useState(/** @type {Loaded} */ ({ status: 'loading' }))
  const [watchState, setWatchState] = useState(/** @type {WatchState} */ ('connecting'))
  // Counts what changed the config (an event, a write of this page): the history reads again.
  const [changes, setChanges] = useState(0)
  const [again, setAgain] = useState(0)

  useEffect(() => {
    const controller = new AbortController()
    const { signal } = controller
    let stopWatch = () => {}
    const start = async () => {
      const seen = bannerNow()
      setWatchState('connecting')
      try {
        const filters = new URLSearchParams({ dcname })
        const listed = await api(`/configs?${filters}&limit=1`, { signal })
        const found = await read(dcname, signal)
        setLoaded(found)
        setChanges((n) => n + 1)
        clearBanner(seen)
        stopWatch = watchConfigs({
          filters,
          since: Number(listed.headers.get('x-revision') ?? 0),
          onEvent: (/** @type {WatchEvent} */ event) => {
            setLoaded((shown) =>
              newer(
                shown,
                event.type === 'DELETED'
                  ? { status: 'missing' }
                  : { status: 'found', config: event.config, revision: event.revision },
                event.revision,
              ),
            )
            setChanges((n) => n + 1)
          },
          onState: setWatchState,
          onGone: () => setAgain((n) => n + 1),
          onFailed: (error) => showError(error, 'Live updates stopped: reload the page to start them again.'),
        })
      } catch (error) {
        if (signal.aborted) return
        setLoaded({ status: 'failed' })
        setWatchState('stopped')
        showError(error)
      }
    }
    void start()
    return () => {
      controller.abort()
      stopWatch()
    }
  }, [dcname, reloadKey, again])

  /** Reads the config again now (after a write of this page, before its event arrives). */
  const refresh = async () => {
    try {
      const found = await read(dcname)
      setLoaded((shown) => newer(shown, found))
      setChanges((n) => n + 1)
    } catch (error) {
      showError(error)
    }
  }

  return { loaded, watchState, changes, refresh }
}
