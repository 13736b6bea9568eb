/**
 * A config's history (newest first, paged by Link rel="next"), a diff between any two of its
 * revisions or a revision and now (each read with GET /configs/<dcname>?revision=N), and the
 * buttons that ask to roll back to one.
 */
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, configPath, describeError, nextLink } from './api.js'
import { DiffView } from './diff-view.js'
import { html } from './html.js'
import { prettyJson } from './json-lines.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {{ revision: number, type: 'ADDED' | 'MODIFIED' | 'DELETED', time: string, actor: string, requestId?: string, config: Config }} Entry
 */

const PAGE = 20
const CURRENT = 'current'

/**
 * @param {{ dcname: string, current: Config | null, currentRevision: number | undefined, refreshKey: number, onRollback: (revision: number) => void }} props
 */
export function HistorySection({ dcname, current, currentRevision, refreshKey, onRollback }) {
  const [entries, setEntries] = useState(/** @type {Entry[]} */ ([]))
  const [next, setNext] = useState(/** @type {string | undefined} */ (undefined))
  const [message, setMessage] = useState('')
  const [loading, setLoading] = useState(true)

  /** @param {string} url @param {boolean} append */
  const load = async (url, append) => {
    setLoading(true)
    try {
      const response = await api(url)
      setEntries((before) => (append ? [...before, ...response.body] : response.body))
      setNext(nextLink(response.headers))
      setMessage('')
    } catch (error) {
      setMessage(
        error instanceof ApiError && error.status === 404 ? 'No history is kept for this name.' : describeError(error),
      )
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
      ${message ? html`<p class=${entries.length ? 'error' : 'muted'} role="status">${message}</p>` : null}
      ${
        entries.length > 0
          ? html`<div class="scroll" tabindex="0" role="region" aria-label="History entries">
              <table class="history">
                <thead><tr><th scope="col">Revision</th><th scope="col">Type</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  ${entries.map(
                    (entry) => html`<tr data-revision=${entry.revision}>
                      <th scope="row">${entry.revision}</th>
                      <td><span class=${`type ${entry.type.toLowerCase()}`}>${entry.type}</span></td>
                      <td><time datetime=${entry.time}>${new Date(entry.time).toLocaleString()}</time></td>
                      <td>${entry.actor}</td>
                      <td>${
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
      ${entries.length > 0 ? html`<${Compare} dcname=${dcname} entries=${entries} current=${current} />` : null}
    </section>
  `
}

/**
 * @param {{ dcname: string, entries: Entry[], current: Config | null }} props
 */
function Compare({ dcname, entries, current }) {
  const [from, setFrom] = useState(String(entries[1]?.revision ?? entries[0]?.revision ?? ''))
  const [to, setTo] = useState(CURRENT)
  const [shown, setShown] = useState(
    /** @type {{ before: string, after: string, from: string, to: string } | null} */ (null),
  )
  const [message, setMessage] = useState('')

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
  /** @param {SubmitEvent} event */
  const compare = async (event) => {
    event.preventDefault()
    try {
      const [before, after] = await Promise.all([textAt(from), textAt(to)])
      setShown({ before, after, from, to })
      setMessage('')
    } catch (error) {
      setMessage(describeError(error))
    }
  }
  const label = (/** @type {string} */ choice) => (choice === CURRENT ? 'now' : `revision ${choice}`)
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
      ${message ? html`<p class="error" role="alert">${message}</p>` : null}
      ${shown ? html`<${DiffView} before=${shown.before} after=${shown.after} beforeLabel=${label(shown.from)} afterLabel=${label(shown.to)} />` : null}
    </form>
  `
}
