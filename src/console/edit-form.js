/**
 * Creating (POST) or replacing (PUT with If-Match) a config from the JSON editor. A 400's
 * field errors are shown at their lines; a 412 (someone wrote in between) is never overwritten
 * silently: the newer version and a diff against this edit are shown, and the edit is written
 * again only if the user asks, on the revision they have now seen.
 */
import { useState } from 'preact/hooks'
import { ApiError, api, configPath, describeError, etagOf, revisionOf } from './api.js'
import { DiffView } from './diff-view.js'
import { JsonEditor } from './editor.js'
import { html } from './html.js'
import { lineOfPointer, prettyJson, syntaxErrorLine } from './json-lines.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {import('./editor.js').LineError} LineError
 * @typedef {{ current: Config | null, revision: number | undefined, mine: unknown }} Conflict
 */

/**
 * @param {{
 *   mode: 'create' | 'edit', initial: Config, baseRevision?: number,
 *   onSaved: (config: Config, revision: number | undefined) => void, onCancel: () => void,
 * }} props
 */
export function EditForm({ mode, initial, baseRevision, onSaved, onCancel }) {
  const [text, setText] = useState(() => prettyJson(initial).text)
  const [errors, setErrors] = useState(/** @type {LineError[]} */ ([]))
  const [stale, setStale] = useState(false)
  const [message, setMessage] = useState('')
  const [busy, setBusy] = useState(false)
  const [base, setBase] = useState(baseRevision)
  const [conflict, setConflict] = useState(/** @type {Conflict | null} */ (null))

  /** @param {unknown} value @param {{ revision?: number, recreate?: boolean }} [on] */
  const write = async (value, on = {}) => {
    setBusy(true)
    setMessage('')
    try {
      const response =
        mode === 'create'
          ? await api('/configs', { method: 'POST', body: value })
          : await api(configPath(initial.dcname), {
              method: 'PUT',
              body: value,
              ...(on.recreate ? { ifNoneMatch: '*' } : { ifMatch: etagOf(on.revision ?? base ?? 0) }),
            })
      setErrors([])
      setConflict(null)
      onSaved(response.body, revisionOf(response.headers))
    } catch (error) {
      await failed(error, value)
    } finally {
      setBusy(false)
    }
  }

  /** @param {unknown} error @param {unknown} value */
  const failed = async (error, value) => {
    if (error instanceof ApiError && error.status === 400 && error.problem.errors?.length) {
      // Shown on the pretty-printed form of what was sent, where every pointer has its line.
      const pretty = prettyJson(value)
      setText(pretty.text)
      setStale(false)
      setErrors(error.problem.errors.map((e) => ({ ...e, line: lineOfPointer(pretty.lineOf, e.pointer) })))
      setMessage(describeError(error))
      return
    }
    if (error instanceof ApiError && error.status === 412 && mode === 'edit') {
      try {
        setConflict(await newerVersion(initial.dcname, value))
      } catch (reading) {
        setMessage(`Not saved: the config changed meanwhile, and reading it failed: ${describeError(reading)}`)
      }
      return
    }
    setErrors([])
    setMessage(describeError(error))
  }

  /** @param {SubmitEvent} event */
  const submit = (event) => {
    event.preventDefault()
    let value
    try {
      value = JSON.parse(text)
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error)
      const line = syntaxErrorLine(text, detail) ?? 0
      setStale(false)
      setErrors([{ pointer: '', line, message: `not valid JSON: ${detail}` }])
      setMessage('')
      return
    }
    void write(value)
  }

  const reapply = () => {
    if (!conflict) return
    setBase(conflict.revision)
    void write(conflict.mine, conflict.current ? { revision: conflict.revision } : { recreate: true })
  }
  const discard = () => {
    if (conflict?.current) onSaved(conflict.current, conflict.revision)
    else onCancel()
  }

  const title = mode === 'create' ? 'New config' : `Edit ${initial.dcname}`
  return html`
    <form class="panel edit-form" onSubmit=${submit} aria-labelledby="edit-title">
      <h2 id="edit-title">${title}</h2>
      ${mode === 'edit' ? html`<p class="muted">Editing revision ${base}. Saving replaces the config (PUT) only if it is still at that revision.</p>` : null}
      <${JsonEditor}
        id="config-json"
        label=${mode === 'create' ? 'The new config (JSON: dcname and metadata)' : 'The config (JSON)'}
        text=${text}
        errors=${errors}
        stale=${stale}
        onText=${(/** @type {string} */ next) => {
          setText(next)
          if (errors.length > 0) setStale(true)
        }}
      />
      ${message ? html`<p class="error" role="alert">${message}</p>` : null}
      ${conflict ? html`<${ConflictPanel} conflict=${conflict} editedRevision=${base} onReapply=${reapply} onDiscard=${discard} busy=${busy} />` : null}
      <div class="actions">
        <button type="submit" disabled=${busy || conflict !== null}>${mode === 'create' ? 'Create' : 'Save'}</button>
        <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form>
  `
}

/**
 * @param {string} dcname
 * @param {unknown} mine
 * @returns {Promise<Conflict>}
 */
async function newerVersion(dcname, mine) {
  try {
    const response = await api(configPath(dcname))
    return { current: response.body, revision: revisionOf(response.headers), mine }
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { current: null, revision: undefined, mine }
    throw error
  }
}

/**
 * @param {{ conflict: Conflict, editedRevision: number | undefined, busy: boolean, onReapply: () => void, onDiscard: () => void }} props
 */
function ConflictPanel({ conflict, editedRevision, busy, onReapply, onDiscard }) {
  const { current, revision, mine } = conflict
  return html`
    <section class="conflict" role="alert" aria-labelledby="conflict-title">
      <h3 id="conflict-title">Not saved: the config changed while you edited it</h3>
      ${
        current
          ? html`<p>You edited revision ${editedRevision}; revision ${revision} is the current one now. Your edit was not written. Below, what your edit would change in revision ${revision}.</p>
              <${DiffView} before=${prettyJson(current).text} after=${prettyJson(mine).text} beforeLabel=${`revision ${revision} (current)`} afterLabel="your edit" />`
          : html`<p>It was deleted meanwhile. Your edit was not written.</p>`
      }
      <div class="actions">
        <button type="button" disabled=${busy} onClick=${onReapply}>
          ${current ? `Apply my edit on revision ${revision}` : 'Create it again with my edit'}
        </button>
        <button type="button" class="secondary" onClick=${onDiscard}>Discard my edit</button>
      </div>
    </section>
  `
}
