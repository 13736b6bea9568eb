/**
 * A config's history (newest first, paged by Link rel="next"), a diff between any two of its
 * revisions or a revision and now (each read with GET /configs/<dcname>?revision=N; a diff
 * against now follows the config as it changes), and the buttons that ask to roll back to one.
 * On a narrow screen each entry is a small card, so that its actor and its button stay in view.
 */
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, configPath, nextLink } from './api.js'
import { bannerNow, clearBanner, showError } from './banner.js'
import { DiffView } from './diff-view.js'
import { html } from './html.js'
import { prettyJson } from './json-lines.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {{ revision: number, type: 'ADDED' | 'MODIFIED' | 'DELETED', time: string, actor: string, requestId?: string, rollbackOf?: number, config: Config }} Entry
 */

const PAGE = 20
const CURRENT = 'current'

/**
 * @param {{ dcname: string, current: Config | null, currentRevision: number | undefined, refreshKey: number, onRollback: (revision: number) => void }} props
 */
export function HistorySection({ dcname, current, currentRevision, refreshKey, onRollback }) {
  const [entries, setEntries] = useState(/** @type {Entry[]} */ ([]))
  const [next, setNext] = useState(/** @type {string | undefined} */ (undefined))
  const [missing, setMissing] = useState(false)
  const [loading, setLoading] = useState(true)

  /** @param {string} url @param {boolean} append */
  const load = async (url, append) => {
    setLoading(true)
    try {
      const response = await api(url)
      setEntries((before) => (append ? [...before, ...response.body] : response.body))
      setNext(nextLink(response.headers))
      setMissing(false)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) setMissing(true)
      else showError(error)
    } finally {
      setLoading(false)
    }
  }
  useEffect(() => {
    void load(`${configPath(dcname)}/history?limit=${PAGE}`, false)
  }, [dcname, refreshKey])

  return html`
    <section class="panel" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      ${missing && entries.length === 0 ? html`<p class="muted" role="status">No history is kept for this name.</p>` : null}
      ${
        entries.length > 0
          ? html`<div class="scroll" tabindex="0" role="region" aria-label="History entries">
              <table class="history">
                <thead><tr><th scope="col">Revision</th><th scope="col">Type</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  ${entries.map(
                    (entry) => html`<tr data-revision=${entry.revision}>
                      <th scope="row">${entry.revision}</th>
                      <td class="type-cell"><span class=${`type ${entry.type.toLowerCase()}`}>${entry.type}</span>${
                        entry.rollbackOf === undefined
                          ? null
                          : html` <span class="rollback-of">rollback to revision ${entry.rollbackOf}</span>`
                      }</td>
                      <td class="time" data-label="Time"><time datetime=${entry.time}>${new Date(entry.time).toLocaleString()}</time></td>
                      <td class="actor" data-label="Actor">${entry.actor}</td>
                      <td class="act">${
                        entry.type === 'DELETED' || entry.revision === currentRevision
                          ? null
                          : html`<button type="button" class="secondary small" onClick=${() => onRollback(entry.revision)}
                              aria-label=${`Roll back to revision ${entry.revision}`}>Roll back</button>`
                      }</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : null
      }
      ${next ? html`<button type="button" class="secondary" disabled=${loading} onClick=${() => load(next, true)}>Older entries</button>` : null}
      ${entries.length > 0 ? html`<${Compare} dcname=${dcname} entries=${entries} current=${current} currentRevision=${currentRevision} />` : null}
    </section>
  `
}

/**
 * @param {{ dcname: string, entries: Entry[], current: Config | null, currentRevision: number | undefined }} props
 */
function Compare({ dcname, entries, current, currentRevision }) {
  const [from, setFrom] = useState(String(entries[1]?.revision ?? entries[0]?.revision ?? ''))
  const [to, setTo] = useState(CURRENT)
  const [asked, setAsked] = useState(/** @type {{ from: string, to: string } | null} */ (null))
  const [shown, setShown] = useState(
    /** @type {{ before: string, after: string, from: string, to: string, now: string } | null} */ (null),
  )

  /** The config at a choice, pretty-printed; empty where it did not exist. @param {string} choice */
  const textAt = async (choice) => {
    if (choice === CURRENT) return current ? prettyJson(current).text : ''
    try {
      return prettyJson((await api(`${configPath(dcname)}?revision=${choice}`)).body).text
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return ''
      throw error
    }
  }
  // A diff against now is drawn again whenever now changes (a rollback, another client's write).
  const involvesNow = asked !== null && (asked.from === CURRENT || asked.to === CURRENT)
  useEffect(() => {
    if (!asked) return
    let superseded = false
    const seen = bannerNow()
    Promise.all([textAt(asked.from), textAt(asked.to)]).then(
      ([before, after]) => {
        if (superseded) return
        setShown({ before, after, ...asked, now: current ? `now (revision ${currentRevision})` : 'now (deleted)' })
        clearBanner(seen)
      },
      (error) => {
        if (!superseded) showError(error)
      },
    )
    return () => {
      superseded = true
    }
  }, [asked, involvesNow ? current : null])

  /** @param {SubmitEvent} event */
  const compare = (event) => {
    event.preventDefault()
    setAsked({ from, to })
  }
  /** @param {string} selected @param {(value: string) => void} onChange @param {string} id @param {string} text */
  const select = (selected, onChange, id, text) => html`
    <div class="field">
      <label for=${id}>${text}</label>
      <select id=${id} value=${selected} onChange=${(/** @type {Event} */ e) => onChange(/** @type {HTMLSelectElement} */ (e.currentTarget).value)}>
        <option value=${CURRENT}>Now${current ? '' : ' (deleted)'}</option>
        ${entries.map((entry) => html`<option value=${String(entry.revision)}>Revision ${entry.revision} (${entry.type})</option>`)}
      </select>
    </div>
  `
  return html`
    <form class="compare" onSubmit=${compare} aria-label="Compare revisions">
      <h3>Compare</h3>
      <div class="row">
        ${select(from, setFrom, 'diff-from', 'From')} ${select(to, setTo, 'diff-to', 'To')}
        <button type="submit" class="secondary">Show the diff</button>
      </div>
      ${shown ? html`<${DiffView} before=${shown.before} after=${shown.after} beforeLabel=${shown.from === CURRENT ? shown.now : `revision ${shown.from}`} afterLabel=${shown.to === CURRENT ? shown.now : `revision ${shown.to}`} />` : null}
    </form>
  `
}
