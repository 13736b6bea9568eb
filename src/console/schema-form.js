/**
 * Creating or changing a config schema: its prefix, its mode (enforce or warn) and the JSON
 * Schema in the JSON editor, sent as `PUT /schemas/{name}` (with `If-None-Match: *` to create,
 * `If-Match` of the revision shown to change). **Dry run** sends the same with `?dryRun=true`.
 * An enforce schema that existing configs break is refused (422 schema-violators): the form
 * lists them and offers to store it anyway (`?force=true`), which the service audits. Other
 * failures go to the page's banner.
 */
import { useState } from 'preact/hooks'
import { ApiError, api, etagOf, revisionOf, schemaPath, warningOf } from './api.js'
import { bannerNow, clearBanner, showError } from './banner.js'
import { JsonEditor } from './editor.js'
import { html } from './html.js'
import { lineOfPointer, prettyJson, syntaxErrorLine } from './json-lines.js'
import { breakCount, ViolatorsTable } from './violators.js'

/**
 * @typedef {import('./api.js').Schema} Schema
 * @typedef {import('./api.js').Violator} Violator
 * @typedef {import('./editor.js').LineError} LineError
 * @typedef {{ name: string, prefix: string, mode: 'enforce' | 'warn', schema: Record<string, unknown> }} Draft
 * @typedef {{ violators: Violator[], total: number, dryRun: boolean }} Refusal
 */

const STARTER = { type: 'object', properties: {} }

/**
 * @param {{
 *   initial: Schema | null, onSaved: (schema: Schema, warning: string) => void, onCancel?: () => void,
 *   onStale?: () => void,
 * }} props `initial` null: a new schema; `onStale`: the schema changed meanwhile (412)
 */
export function SchemaForm({ initial, onSaved, onCancel, onStale }) {
  const [name, setName] = useState(initial?.name ?? '')
  const [prefix, setPrefix] = useState(initial?.prefix ?? '')
  const [mode, setMode] = useState(initial?.mode ?? 'enforce')
  const [text, setText] = useState(() => prettyJson(initial?.schema ?? STARTER).text)
  const [errors, setErrors] = useState(/** @type {LineError[]} */ ([]))
  const [stale, setStale] = useState(false)
  const [busy, setBusy] = useState(false)
  const [refusal, setRefusal] = useState(/** @type {Refusal | null} */ (null))
  const [checked, setChecked] = useState('')

  /** The draft, or undefined with the editor's syntax error shown at its line. @returns {Draft | undefined} */
  const draft = () => {
    if (name.trim() === '') {
      showError(new Error('A schema needs a name: lower-case letters, digits, "-" and ".".'))
      return undefined
    }
    try {
      const schema = JSON.parse(text)
      if (schema !== null && typeof schema === 'object' && !Array.isArray(schema))
        return { name: name.trim(), prefix, mode, schema }
      setErrors([{ pointer: '', line: 0, message: 'a schema is a JSON object' }])
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error)
      setErrors([{ pointer: '', line: syntaxErrorLine(text, detail) ?? 0, message: `not valid JSON: ${detail}` }])
    }
    setStale(false)
    return undefined
  }

  /** @param {{ dryRun?: boolean, force?: boolean }} how */
  const send = async (how) => {
    const value = draft()
    if (!value) return
    const seen = bannerNow()
    const query = new URLSearchParams()
    if (how.dryRun) query.set('dryRun', 'true')
    if (how.force) query.set('force', 'true')
    setBusy(true)
    setChecked('')
    try {
      const response = await api(`${schemaPath(value.name)}${query.size > 0 ? `?${query}` : ''}`, {
        method: 'PUT',
        body: { prefix: value.prefix, mode: value.mode, schema: value.schema },
        ...(initial ? { ifMatch: etagOf(initial.revision) } : { ifNoneMatch: '*' }),
      })
      setErrors([])
      setRefusal(null)
      clearBanner(seen)
      const warning = warningOf(response.headers)
      if (how.dryRun) {
        setChecked(
          `Dry run passed: the service would store this schema; nothing was stored.${warning ? ` ${warning}` : ''}`,
        )
        return
      }
      onSaved({ ...response.body, revision: revisionOf(response.headers) ?? response.body.revision }, warning)
    } catch (error) {
      failed(error, value, how.dryRun === true)
    } finally {
      setBusy(false)
    }
  }

  /** @param {unknown} error @param {Draft} value @param {boolean} dryRun */
  const failed = (error, value, dryRun) => {
    setRefusal(null)
    setErrors([])
    if (error instanceof ApiError && error.problem.violators) {
      setRefusal({ violators: error.problem.violators, total: error.problem.total ?? 0, dryRun })
    } else if (error instanceof ApiError && error.problem.errors?.length) {
      // Errors about the JSON Schema itself point into the body at /schema: shown at their lines.
      const pretty = prettyJson(value.schema)
      setText(pretty.text)
      setStale(false)
      const inSchema = error.problem.errors.filter((e) => e.pointer === '/schema' || e.pointer.startsWith('/schema/'))
      setErrors(inSchema.map((e) => ({ ...e, line: lineOfPointer(pretty.lineOf, e.pointer.slice('/schema'.length)) })))
    }
    const changed = error instanceof ApiError && error.status === 412
    showError(error, changed ? 'The schema changed since this page read it: the newest version is shown now.' : '')
    if (changed) onStale?.()
  }

  /** @param {SubmitEvent} event */
  const submit = (event) => {
    event.preventDefault()
    void send({})
  }
  /** @param {string} next */
  const edited = (next) => {
    setText(next)
    setChecked('')
    if (errors.length > 0) setStale(true)
  }
  /** @param {(value: string) => void} set */
  const input = (set) => (/** @type {InputEvent} */ event) => {
    set(/** @type {HTMLInputElement} */ (event.currentTarget).value)
    setChecked('')
  }

  return html`
    <form class="panel edit-form schema-form" onSubmit=${submit} aria-labelledby="schema-form-title">
      <h2 id="schema-form-title">${initial ? `Edit schema ${initial.name}` : 'New schema'}</h2>
      ${initial ? html`<p class="muted">Editing revision ${initial.revision}. Saving replaces the schema (PUT) only if it is still at that revision, after the service checks every config it would govern.</p>` : null}
      ${
        initial
          ? null
          : html`<div class="field">
              <label for="schema-name">Name</label>
              <input id="schema-name" required spellcheck="false" autocomplete="off" value=${name} onInput=${input(setName)}
                aria-describedby="schema-name-hint" />
              <span id="schema-name-hint" class="muted">Lower-case letters, digits, "-" and ".".</span>
            </div>`
      }
      <div class="field">
        <label for="schema-prefix">Prefix (governs the dcnames that start with it; the longest prefix wins)</label>
        <input id="schema-prefix" spellcheck="false" autocomplete="off" value=${prefix} onInput=${input(setPrefix)} />
      </div>
      <fieldset class="mode-switch">
        <legend>Mode</legend>
        ${[
          ['enforce', 'Enforce: a write that breaks it is refused (422)'],
          ['warn', 'Warn: such a write is stored, with a Warning header'],
        ].map(
          ([value, label]) => html`<label>
            <input type="radio" name="schema-mode" value=${value} checked=${mode === value}
              onChange=${() => {
                setMode(/** @type {'enforce' | 'warn'} */ (value))
                setChecked('')
              }} /> ${label}
          </label>`,
        )}
      </fieldset>
      <${JsonEditor} id="schema-json" label="The JSON Schema (2020-12) for the metadata" text=${text} errors=${errors}
        stale=${stale} onText=${edited} />
      ${checked ? html`<p class="notice" role="status">${checked}</p>` : null}
      ${
        refusal
          ? html`<section class="conflict" role="alert" aria-labelledby="violators-title">
              <h3 id="violators-title">${refusal.dryRun ? 'A save would be refused' : 'Not saved'}: ${breakCount(refusal.total)}</h3>
              <p>In enforce mode, a schema that existing configs break is refused. Fix them, switch to warn, or store it anyway: they keep their values, and their next writes must pass it.</p>
              <${ViolatorsTable} violators=${refusal.violators} total=${refusal.total} caption="The configs that break it" />
              <div class="actions">
                <button type="button" class="danger" disabled=${busy} onClick=${() => send({ force: true })}>Save anyway (force)</button>
              </div>
            </section>`
          : null
      }
      <div class="actions">
        <button type="submit" disabled=${busy}>${initial ? 'Save' : 'Create'}</button>
        <button type="button" class="secondary" disabled=${busy} onClick=${() => send({ dryRun: true })}>Dry run</button>
        ${onCancel ? html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>` : null}
      </div>
    </form>
  `
}
