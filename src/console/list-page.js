/**
 * /ui: the configs in a table, filtered as /search filters (kept in the URL), paged by the
 * list's Link rel="next", with the total the filters match, and kept live by a watch from the
 * list's X-Revision with the same filters: a row changes, appears or leaves without a reload.
 */
import { useEffect, useMemo, useState } from 'preact/hooks'
import { ApiError, api, configPath, nextLink, revisionOf } from './api.js'
import { bannerNow, clearBanner, ErrorBanner, showError } from './banner.js'
import { EditForm } from './edit-form.js'
import { FilterBar, filtersOf } from './filter-bar.js'
import { Folders } from './folders.js'
import { html } from './html.js'
import { COUNT_LIMIT, liveTotal } from './list-total.js'
import { LiveStatus } from './live-status.js'
import { summarize } from './metadata.js'
import { configHref, Link, navigate } from './router.js'
import { watchConfigs } from './watch.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {import('./watch.js').WatchEvent} WatchEvent
 * @typedef {import('./watch.js').WatchState} WatchState
 * @typedef {import('./list-total.js').Total} Total
 * @typedef {{ config: Config, revision?: number, changed?: boolean }} Row
 * @typedef {{ after?: string, upTo?: string }} Bounds the dcnames this page covers
 */

const PAGE_SIZE = '50'
const FILTER_HINT =
  'Filters are metadata.<path> (such as metadata.team or metadata.monitoring.enabled) or dcname, each with the value it must have.'

/** @param {{ search: string, reloadKey: number }} props */
export function ListPage({ search, reloadKey }) {
  const query = useMemo(() => new URLSearchParams(search), [search])
  const [rows, setRows] = useState(/** @type {Row[]} */ ([]))
  const [status, setStatus] = useState({
    state: /** @type {'loading' | 'listed' | 'failed'} */ ('loading'),
    next: /** @type {string | undefined} */ (undefined),
  })
  const [total, setTotal] = useState(/** @type {Total} */ (null))
  const [watchState, setWatchState] = useState(/** @type {WatchState} */ ('connecting'))
  const [relist, setRelist] = useState(0)
  const [creating, setCreating] = useState(false)

  useEffect(() => {
    document.title = 'Configs · config-service'
    const controller = new AbortController()
    let stopWatch = () => {}
    const listQuery = new URLSearchParams(query)
    if (!listQuery.has('limit')) listQuery.set('limit', PAGE_SIZE)
    // The filters and the name prefix: what the watch and the total follow, as the list does.
    const filters = new URLSearchParams(filtersOf(query).map((row) => [row.field, row.value]))
    if (query.has('prefix')) filters.set('prefix', query.get('prefix') ?? '')
    const start = async () => {
      const seen = bannerNow()
      setStatus((before) => ({ ...before, state: 'loading' }))
      setWatchState('connecting')
      try {
        const response = await api(`/configs?${listQuery}`, { signal: controller.signal })
        /** @type {Config[]} */
        const listed = response.body
        const next = nextLink(response.headers)
        const revision = Number(response.headers.get('x-revision') ?? 0)
        const bounds = {
          after: query.has('cursor') ? listed[0]?.dcname : undefined,
          upTo: next ? listed.at(-1)?.dcname : undefined,
        }
        setRows(listed.map((config) => ({ config })))
        setStatus({ state: 'listed', next })
        clearBanner(seen)
        void fillRevisions(listed, setRows, controller.signal)
        const counter = liveTotal(setTotal)
        const whole = !next && !query.has('cursor')
        void counter.start({ listed, whole, revision, filters, signal: controller.signal })
        stopWatch = watchConfigs({
          filters,
          since: revision,
          onEvent: (event) => {
            setRows((before) => applyEvent(before, event, bounds))
            counter.event(event)
          },
          onState: setWatchState,
          onGone: () => setRelist((n) => n + 1),
          onFailed: (error) => showError(error, 'Live updates stopped: reload the page to start them again.'),
        })
      } catch (error) {
        if (controller.signal.aborted) return
        // Nothing was listed and nothing is watched: the page says so rather than "0 configs".
        setStatus({ state: 'failed', next: undefined })
        setWatchState('stopped')
        const refusedFilter = error instanceof ApiError && error.status === 400 && filters.size > 0
        showError(error, refusedFilter ? FILTER_HINT : '')
      }
    }
    void start()
    return () => {
      controller.abort()
      stopWatch()
    }
  }, [query, reloadKey, relist])

  /** @param {import('./filter-bar.js').FilterRow[]} filters @param {string} prefix */
  const applyFilters = (filters, prefix) => {
    const next = new URLSearchParams(filters.map((row) => [row.field, row.value]))
    if (prefix !== '') next.set('prefix', prefix)
    if (query.has('limit')) next.set('limit', query.get('limit') ?? '')
    navigate(next.size > 0 ? `/ui?${next}` : '/ui')
  }
  /** A folder of the folder view: the same filters, with this name prefix, from the first page. */
  const openFolder = (/** @type {string} */ prefix) => applyFilters(filtersOf(query), prefix)
  const pageOf = (/** @type {string} */ link) => {
    const params = new URL(link, location.origin).searchParams
    if (!query.has('limit')) params.delete('limit')
    return `/ui?${params}`
  }
  const filtered = filtersOf(query).length > 0 || query.has('prefix')
  const paged = status.next !== undefined || query.has('cursor')
  /** What the whole list holds, and on a page of it, what this page holds. */
  const caption = () => {
    if (status.state === 'loading') return 'Loading…'
    const matching = filtered ? ' matching the filters' : ''
    const counted = total
      ? `${total.exact ? total.count : `More than ${COUNT_LIMIT}`} config${total.count === 1 && total.exact ? '' : 's'}${matching}`
      : `Counting the configs${matching}…`
    return paged ? `${counted} · ${rows.length} on this page` : counted
  }

  return html`
    <div class="title-row">
      <h1 tabindex="-1">Configs</h1>
      <${LiveStatus} state=${watchState} />
      <div class="actions">
        <button type="button" aria-expanded=${creating ? 'true' : 'false'} onClick=${() => setCreating(!creating)}>New config</button>
      </div>
    </div>
    <${ErrorBanner} />
    ${
      creating
        ? html`<${EditForm}
            mode="create"
            initial=${{ dcname: '', metadata: { monitoring: { enabled: true } } }}
            onSaved=${(/** @type {Config} */ config) => navigate(configHref(config.dcname))}
            onCancel=${() => setCreating(false)}
          />`
        : null
    }
    <${FilterBar} query=${query} onApply=${applyFilters} />
    ${
      status.state === 'listed'
        ? html`<${Folders} prefix=${query.get('prefix') ?? ''} names=${rows.map((row) => row.config.dcname)} onOpen=${openFolder} />`
        : null
    }
    ${
      status.state === 'failed'
        ? null
        : html`<table class="configs">
      <caption>${caption()}</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Metadata</th><th scope="col" class="num">Revision</th></tr></thead>
      <tbody>
        ${rows.map(
          (
            row,
          ) => html`<tr key=${row.config.dcname} data-dcname=${row.config.dcname} class=${row.changed ? 'changed' : ''}>
            <th scope="row"><${Link} href=${configHref(row.config.dcname)}>${row.config.dcname}</${Link}></th>
            <td class="summary">${summarize(row.config.metadata)}</td>
            <td class="num">${row.revision ?? html`<span class="muted" aria-label="not known yet">…</span>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>`
    }
    <nav class="pager actions" aria-label="Pages">
      ${query.has('cursor') ? html`<${Link} href=${pageOf(`/configs?${new URLSearchParams([...query].filter(([k]) => k !== 'cursor'))}`)}>First page</${Link}>` : null}
      ${status.next ? html`<${Link} href=${pageOf(status.next)}>Next page</${Link}>` : null}
    </nav>
  `
}

/**
 * A change from the watch, applied to the rows: DELETED (or no longer matching) leaves, the
 * rest is updated or inserted in dcname order, if it falls within the page.
 * @param {Row[]} rows
 * @param {WatchEvent} event
 * @param {Bounds} bounds
 */
function applyEvent(rows, event, bounds) {
  const name = event.config.dcname
  const others = rows.filter((row) => row.config.dcname !== name)
  if (event.type === 'DELETED') return others
  const known = rows.some((row) => row.config.dcname === name)
  const inPage =
    (bounds.after === undefined || name >= bounds.after) && (bounds.upTo === undefined || name <= bounds.upTo)
  if (!known && !inPage) return rows
  const row = { config: event.config, revision: event.revision, changed: true }
  const at = others.findIndex((other) => other.config.dcname > name)
  return at === -1 ? [...others, row] : [...others.slice(0, at), row, ...others.slice(at)]
}

/**
 * A list answers configs without their revisions; each row's comes from a HEAD of the config
 * (its ETag), a few at a time. A newer one from the watch is never replaced by an older one.
 * @param {Config[]} configs
 * @param {(update: (rows: Row[]) => Row[]) => void} setRows
 * @param {AbortSignal} signal
 */
async function fillRevisions(configs, setRows, signal) {
  const queue = configs.map((config) => config.dcname)
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined && !signal.aborted; name = queue.shift()) {
      const dcname = name
      const revision = await api(configPath(dcname), { method: 'HEAD', signal }).then(
        (response) => revisionOf(response.headers),
        () => undefined,
      )
      if (revision === undefined || signal.aborted) continue
      setRows((rows) =>
        rows.map((row) =>
          row.config.dcname === dcname && (row.revision ?? 0) < revision ? { ...row, revision } : row,
        ),
      )
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()])
}
