/**
 * /ui/schemas: every config schema (name, prefix, mode, revision) from `GET /schemas`, and
 * **New schema**, which opens the schema form and, once created, the new schema's page.
 */
import { useEffect, useState } from 'preact/hooks'
import { api } from './api.js'
import { bannerNow, clearBanner, ErrorBanner, showError } from './banner.js'
import { html } from './html.js'
import { Link, navigate, schemaHref } from './router.js'
import { SchemaForm } from './schema-form.js'

/** @typedef {import('./api.js').Schema} Schema */

/** @param {{ reloadKey: number }} props */
export function SchemasPage({ reloadKey }) {
  const [state, setState] = useState(
    /** @type {{ status: 'loading' | 'failed' } | { status: 'listed', schemas: Schema[] }} */ ({ status: 'loading' }),
  )
  const [creating, setCreating] = useState(false)

  useEffect(() => {
    document.title = 'Schemas · config-service'
    const controller = new AbortController()
    const seen = bannerNow()
    api('/schemas', { signal: controller.signal }).then(
      (response) => {
        setState({ status: 'listed', schemas: response.body })
        clearBanner(seen)
      },
      (error) => {
        if (controller.signal.aborted) return
        setState({ status: 'failed' })
        showError(error)
      },
    )
    return () => controller.abort()
  }, [reloadKey])

  const schemas = state.status === 'listed' ? state.schemas : []
  return html`
    <div class="title-row">
      <h1 tabindex="-1">Schemas</h1>
      <div class="actions">
        <button type="button" aria-expanded=${creating ? 'true' : 'false'} onClick=${() => setCreating(!creating)}>New schema</button>
      </div>
    </div>
    <p class="muted">A schema types the metadata of the configs whose names start with its prefix: every write is checked against it.</p>
    <${ErrorBanner} />
    ${
      creating
        ? html`<${SchemaForm}
            initial=${null}
            onSaved=${(/** @type {Schema} */ schema) => navigate(schemaHref(schema.name))}
            onCancel=${() => setCreating(false)}
          />`
        : null
    }
    ${state.status === 'loading' ? html`<p class="muted" role="status">Loading…</p>` : null}
    ${
      state.status === 'listed'
        ? html`<table class="configs schemas">
            <caption>${schemas.length === 0 ? 'No schemas yet' : `${schemas.length} schema${schemas.length === 1 ? '' : 's'}`}</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Mode</th><th scope="col" class="num">Revision</th></tr></thead>
            <tbody>
              ${schemas.map(
                (schema) => html`<tr key=${schema.name} data-schema=${schema.name}>
                  <th scope="row"><${Link} href=${schemaHref(schema.name)}>${schema.name}</${Link}></th>
                  <td><code>${schema.prefix}</code></td>
                  <td>${schema.mode}</td>
                  <td class="num">${schema.revision}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : null
    }
  `
}
