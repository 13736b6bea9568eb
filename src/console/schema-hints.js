/**
 * Under a config's JSON editor: the schema that governs the config (the longest prefix of
 * `GET /schemas` its dcname starts with), and its enums and defaults as controls that write
 * into the JSON, so a person picks an allowed value instead of guessing it. The text stays the
 * one thing edited: each control parses it, sets one value and prints it again.
 */
import { useEffect, useState } from 'preact/hooks'
import { api } from './api.js'
import { html } from './html.js'
import { prettyJson } from './json-lines.js'
import { Link, schemaHref } from './router.js'
import { governingSchema, schemaFields, valueAt, withDefaults, withValueAt } from './schema-fields.js'

/** @typedef {import('./api.js').Schema} Schema */

/**
 * Every schema, read once per form. Hints are a help, not the form's purpose: a failed read
 * leaves them out rather than stopping the edit (the save is checked by the service anyway).
 */
export function useSchemas() {
  const [schemas, setSchemas] = useState(/** @type {Schema[]} */ ([]))
  useEffect(() => {
    const controller = new AbortController()
    api('/schemas', { signal: controller.signal }).then(
      (response) => setSchemas(Array.isArray(response.body) ? response.body : []),
      () => {},
    )
    return () => controller.abort()
  }, [])
  return schemas
}

/** @param {string} text */
function parsed(text) {
  try {
    return { ok: true, value: /** @type {unknown} */ (JSON.parse(text)) }
  } catch {
    return { ok: false, value: undefined }
  }
}

/**
 * @param {{ schemas: Schema[], dcname: string, text: string, onText: (text: string) => void }} props
 */
export function SchemaHints({ schemas, dcname, text, onText }) {
  const schema = dcname === '' ? undefined : governingSchema(schemas, dcname)
  if (!schema) return null
  const fields = schemaFields(schema.schema)
  const current = parsed(text)
  const missing = current.ok ? withDefaults(current.value, fields).added : []
  /** @param {(config: unknown) => unknown} change */
  const rewrite = (change) => {
    const now = parsed(text)
    if (now.ok) onText(prettyJson(change(now.value)).text)
  }
  return html`
    <section class="schema-hints" aria-labelledby="schema-hints-title">
      <h3 id="schema-hints-title">
        Schema <${Link} href=${schemaHref(schema.name)}>${schema.name}</${Link}> governs this config${' '}
        <span class="muted">(prefix <code>${schema.prefix}</code>, ${schema.mode})</span>
      </h3>
      ${fields.length === 0 ? html`<p class="muted">It names no enums or defaults.</p>` : null}
      ${current.ok ? null : html`<p class="muted">The JSON above does not parse: fix it to use these.</p>`}
      ${
        missing.length > 0
          ? html`<button type="button" class="secondary small" onClick=${() => rewrite((c) => withDefaults(c, fields).config)}>
              Insert ${missing.length === 1 ? 'the missing default' : `the ${missing.length} missing defaults`}
            </button>`
          : null
      }
      <ul class="hint-list">
        ${fields.map((field) => {
          const value = current.ok ? valueAt(current.value, field.path) : undefined
          const id = `hint-${field.pointer.replace(/[^\w-]/g, '_')}`
          return html`<li data-pointer=${field.pointer}>
            <code id=${id}>${field.pointer}</code>
            ${
              field.enum
                ? html`<select aria-labelledby=${id} disabled=${!current.ok}
                    onChange=${(/** @type {Event} */ event) => {
                      const chosen = /** @type {HTMLSelectElement} */ (event.currentTarget).value
                      if (chosen !== '') rewrite((c) => withValueAt(c, field.path, JSON.parse(chosen)))
                    }}>
                    <option value="" selected=${value === undefined}>${value === undefined ? 'not set: choose…' : 'choose…'}</option>
                    ${field.enum.map(
                      (each) =>
                        html`<option value=${JSON.stringify(each)} selected=${JSON.stringify(each) === JSON.stringify(value)}>${JSON.stringify(each)}</option>`,
                    )}
                  </select>`
                : null
            }
            ${field.hasDefault ? html`<span class="muted">default <code>${JSON.stringify(field.default)}</code></span>` : null}
            ${
              field.hasDefault && current.ok && value === undefined
                ? html`<button type="button" class="link" aria-describedby=${id}
                    onClick=${() => rewrite((c) => withValueAt(c, field.path, field.default))}>Insert the default</button>`
                : null
            }
          </li>`
        })}
      </ul>
    </section>
  `
}
