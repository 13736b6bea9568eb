/**
 * Creating (POST) or replacing (PUT with If-Match) a config from the JSON editor, or a dry run
 * of either (`?dryRun=true`: the service checks it whole and stores nothing). The field errors
 * of a 400, and of a 422 from the schema that governs the config, are shown at their lines;
 * that schema's enums and defaults are offered under the editor (schema-hints.js); a 412 (someone wrote in between) is never overwritten
 * silently: the edit is merged three ways with the newer version (conflict-panel.js) and
 * written only if the user asks, on the revision they have now seen. Other failures go to the
 * page's banner.
 */
import { useState } from 'preact/hooks'
import { ApiError, api, configPath, etagOf, revisionOf, warningOf } from './api.js'
import { bannerNow, clearBanner, showError } from './banner.js'
import { ConflictPanel } from './conflict-panel.js'
import { JsonEditor } from './editor.js'
import { html } from './html.js'
import { lineOfPointer, prettyJson, syntaxErrorLine } from './json-lines.js'
import { mergeThreeWay } from './merge.js'
import { SchemaHints, useSchemas } from './schema-hints.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {import('./editor.js').LineError} LineError
 * @typedef {import('./conflict-panel.js').Conflict} Conflict
 * @typedef {{ config: Config, revision: number | undefined }} Base what the edit started from
 */

/**
 * @param {{
 *   mode: 'create' | 'edit', initial: Config, baseRevision?: number, currentRevision?: number,
 *   onSaved: (config: Config, revision: number | undefined, warning: string) => void, onCancel: () => void,
 * }} props `warning`: a warn-mode schema's Warning header, if the write had one
 */
export function EditForm({ mode, initial, baseRevision, currentRevision, onSaved, onCancel }) {
  const [text, setText] = useState(() => prettyJson(initial).text)
  const [errors, setErrors] = useState(/** @type {LineError[]} */ ([]))
  const [stale, setStale] = useState(false)
  const [busy, setBusy] = useState(false)
  // The page keeps `initial` live; the merge needs the version this edit started from.
  const [base, setBase] = useState(/** @type {() => Base} */ (() => ({ config: initial, revision: baseRevision })))
  const [conflict, setConflict] = useState(/** @type {Conflict | null} */ (null))
  const [checked, setChecked] = useState('')
  const schemas = useSchemas()

  /** @param {unknown} value @param {{ revision?: number, recreate?: boolean, dryRun?: boolean }} [on] */
  const write = async (value, on = {}) => {
    const seen = bannerNow()
    const query = on.dryRun ? '?dryRun=true' : ''
    setBusy(true)
    setChecked('')
    try {
      const response =
        mode === 'create'
          ? await api(`/configs${query}`, { method: 'POST', body: value })
          : await api(`${configPath(initial.dcname)}${query}`, {
              method: 'PUT',
              body: value,
              ...(on.recreate ? { ifNoneMatch: '*' } : { ifMatch: etagOf(on.revision ?? base.revision ?? 0) }),
            })
      setErrors([])
      setConflict(null)
      clearBanner(seen)
      const warning = warningOf(response.headers)
      if (on.dryRun)
        setChecked(`Dry run passed: the service would store this; nothing was stored.${warning ? ` ${warning}` : ''}`)
      else onSaved(response.body, revisionOf(response.headers), warning)
    } catch (error) {
      await failed(error, value, on.dryRun === true)
    } finally {
      setBusy(false)
    }
  }

  /** @param {unknown} error @param {unknown} value @param {boolean} dryRun */
  const failed = async (error, value, dryRun) => {
    const fields = error instanceof ApiError && (error.status === 400 || error.status === 422)
    if (fields && error.problem.errors?.length) {
      // Shown on the pretty-printed form of what was sent, where every pointer has its line.
      const pretty = prettyJson(value)
      setText(pretty.text)
      setStale(false)
      setErrors(error.problem.errors.map((e) => ({ ...e, line: lineOfPointer(pretty.lineOf, e.pointer) })))
      showError(error)
      return
    }
    if (error instanceof ApiError && error.status === 412 && mode === 'edit' && !dryRun) {
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

  /** The text as JSON, or undefined with its syntax error shown at its line. */
  const parsedText = () => {
    try {
      return { value: /** @type {unknown} */ (JSON.parse(text)) }
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error)
      const line = syntaxErrorLine(text, detail) ?? 0
      setStale(false)
      setChecked('')
      setErrors([{ pointer: '', line, message: `not valid JSON: ${detail}` }])
      return undefined
    }
  }

  /** @param {SubmitEvent} event */
  const submit = (event) => {
    event.preventDefault()
    const parsed = parsedText()
    if (parsed) void write(parsed.value)
  }
  const dryRun = () => {
    const parsed = parsedText()
    if (parsed) void write(parsed.value, { dryRun: true })
  }
  /** The name the governing schema is looked up by: in the create form, the one typed so far. */
  const dcname = mode === 'edit' ? initial.dcname : (/"dcname"\s*:\s*"([^"\\]*)"/.exec(text)?.[1] ?? '')
  /** @param {string} next */
  const edited = (next) => {
    setText(next)
    setChecked('')
    if (errors.length > 0) setStale(true)
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
        onText=${edited}
      />
      <${SchemaHints} schemas=${schemas} dcname=${dcname} text=${text} onText=${edited} />
      ${checked ? html`<p class="notice" role="status">${checked}</p>` : null}
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
        <button type="button" class="secondary" disabled=${busy || conflict !== null} onClick=${dryRun}>Dry run</button>
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
