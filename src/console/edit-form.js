/**
 * Creating (POST) or replacing (PUT with If-Match) a config from the JSON editor. A 400's
 * field errors are shown at their lines; a 412 (someone wrote in between) is never overwritten
 * silently: the edit is merged three ways with the newer version (conflict-panel.js) and
 * written only if the user asks, on the revision they have now seen. Other failures go to the
 * page's banner.
 */
import { useState } from 'preact/hooks'
import { ApiError, api, configPath, etagOf, revisionOf } from './api.js'
import { bannerNow, clearBanner, showError } from './banner.js'
import { ConflictPanel } from './conflict-panel.js'
import { JsonEditor } from './editor.js'
import { html } from './html.js'
import { lineOfPointer, prettyJson, syntaxErrorLine } from './json-lines.js'
import { mergeThreeWay } from './merge.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {import('./editor.js').LineError} LineError
 * @typedef {import('./conflict-panel.js').Conflict} Conflict
 * @typedef {{ config: Config, revision: number | undefined }} Base what the edit started from
 */

/**
 * @param {{
 *   mode: 'create' | 'edit', initial: Config, baseRevision?: number, currentRevision?: number,
 *   onSaved: (config: Config, revision: number | undefined) => void, onCancel: () => void,
 * }} props
 */
export function EditForm({ mode, initial, baseRevision, currentRevision, onSaved, onCancel }) {
  const [text, setText] = useState(() => prettyJson(initial).text)
  const [errors, setErrors] = useState(/** @type {LineError[]} */ ([]))
  const [stale, setStale] = useState(false)
  const [busy, setBusy] = useState(false)
  // The page keeps `initial` live; the merge needs the version this edit started from.
  const [base, setBase] = useState(/** @type {() => Base} */ (() => ({ config: initial, revision: baseRevision })))
  const [conflict, setConflict] = useState(/** @type {Conflict | null} */ (null))

  /** @param {unknown} value @param {{ revision?: number, recreate?: boolean }} [on] */
  const write = async (value, on = {}) => {
    const seen = bannerNow()
    setBusy(true)
    try {
      const response =
        mode === 'create'
          ? await api('/configs', { method: 'POST', body: value })
          : await api(configPath(initial.dcname), {
              method: 'PUT',
              body: value,
              ...(on.recreate ? { ifNoneMatch: '*' } : { ifMatch: etagOf(on.revision ?? base.revision ?? 0) }),
            })
      setErrors([])
      setConflict(null)
      clearBanner(seen)
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
      showError(error)
      return
    }
    if (error instanceof ApiError && error.status === 412 && mode === 'edit') {
      try {
        setConflict(await newerVersion(initial.dcname, base.config, value))
      } catch (reading) {
        showError(reading, 'Not saved: the config changed meanwhile, and reading its newer version failed.')
      }
      return
    }
    setErrors([])
    showError(error)
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
      return
    }
    void write(value)
  }

  /** What is written next is based on the newer version: a later 412 merges against it. @param {unknown} value */
  const writeOnNewer = (value) => {
    if (!conflict?.current) return
    setBase({ config: conflict.current, revision: conflict.revision })
    void write(value, { revision: conflict.revision })
  }

  const title = mode === 'create' ? 'New config' : `Edit ${initial.dcname}`
  const changedMeanwhile =
    mode === 'edit' && !conflict && currentRevision !== undefined && currentRevision !== base.revision
  return html`
    <form class="panel edit-form" onSubmit=${submit} aria-labelledby="edit-title">
      <h2 id="edit-title">${title}</h2>
      ${mode === 'edit' ? html`<p class="muted">Editing revision ${base.revision}. Saving replaces the config (PUT) only if it is still at that revision.</p>` : null}
      ${changedMeanwhile ? html`<p class="notice" role="status">The config changed meanwhile: it is at revision ${currentRevision} now. Saving will show how your edit merges with it.</p>` : null}
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
      ${
        conflict
          ? html`<${ConflictPanel}
              key=${conflict.revision ?? 'deleted'}
              conflict=${conflict}
              editedRevision=${base.revision}
              busy=${busy}
              onMerge=${writeOnNewer}
              onOverwrite=${() => writeOnNewer(conflict.mine)}
              onRecreate=${() => write(conflict.mine, { recreate: true })}
              onDiscard=${onCancel}
            />`
          : null
      }
      <div class="actions">
        <button type="submit" disabled=${busy || conflict !== null}>${mode === 'create' ? 'Create' : 'Save'}</button>
        <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form>
  `
}

/**
 * The version that won the race, and the edit merged with it.
 * @param {string} dcname
 * @param {Config} base
 * @param {unknown} mine
 * @returns {Promise<Conflict>}
 */
async function newerVersion(dcname, base, mine) {
  try {
    const response = await api(configPath(dcname))
    /** @type {Config} */
    const current = response.body
    return { current, revision: revisionOf(response.headers), mine, merge: mergeThreeWay(base, mine, current) }
  } catch (error) {
    if (error instanceof ApiError && error.status === 404)
      return { current: null, revision: undefined, mine, merge: null }
    throw error
  }
}
