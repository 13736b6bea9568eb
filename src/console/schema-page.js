/**
 * /ui/schemas/<name>: one config schema in its editor (schema-form.js), delete, and the configs
 * that break it now (`GET /schemas/{name}/violations`), read again after every change of it.
 * Failures go to the page's one banner.
 */
import { useCallback, useEffect, useState } from 'preact/hooks'
import { ApiError, api, etagOf, revisionOf, schemaPath } from './api.js'
import { bannerNow, clearBanner, ErrorBanner, showError } from './banner.js'
import { ConfirmDialog } from './dialogs.js'
import { html } from './html.js'
import { Link } from './router.js'
import { SchemaForm } from './schema-form.js'
import { breakCount, ViolatorsTable } from './violators.js'

/**
 * @typedef {import('./api.js').Schema} Schema
 * @typedef {import('./api.js').Violator} Violator
 * @typedef {{ status: 'loading' } | { status: 'missing' } | { status: 'failed' } | { status: 'found', schema: Schema }} Loaded
 */

/** @param {{ name: string, reloadKey: number }} props */
export function SchemaPage({ name, reloadKey }) {
  const [loaded, setLoaded] = useState(/** @type {Loaded} */ ({ status: 'loading' }))
  const [notice, setNotice] = useState('')
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [reads, setReads] = useState(0)

  useEffect(() => {
    document.title = `Schema ${name} · config-service`
  }, [name])

  const read = useCallback(async () => {
    const seen = bannerNow()
    try {
      const response = await api(schemaPath(name))
      const schema = { ...response.body, revision: revisionOf(response.headers) ?? response.body.revision }
      setLoaded({ status: 'found', schema })
      clearBanner(seen)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) setLoaded({ status: 'missing' })
      else {
        setLoaded({ status: 'failed' })
        showError(error)
      }
    }
    setReads((n) => n + 1)
  }, [name])

  useEffect(() => {
    void read()
  }, [read, reloadKey])

  const found = loaded.status === 'found' ? loaded.schema : null
  const remove = async () => {
    if (!found) return
    const seen = bannerNow()
    setBusy(true)
    try {
      await api(schemaPath(name), { method: 'DELETE', ifMatch: etagOf(found.revision) })
      clearBanner(seen)
      setNotice(
        `Deleted schema ${name}: the configs under ${JSON.stringify(found.prefix)} are no longer checked by it.`,
      )
    } catch (error) {
      const changed = error instanceof ApiError && error.status === 412
      showError(error, changed ? 'The schema changed since this page read it: the newest version is shown now.' : '')
    } finally {
      setConfirming(false)
      setBusy(false)
      await read()
    }
  }

  return html`
    <nav aria-label="Breadcrumb" class="crumbs"><${Link} href="/ui/schemas">Schemas</${Link}> <span aria-hidden="true">/</span> <span aria-current="page">${name}</span></nav>
    <div class="title-row">
      <h1 tabindex="-1">Schema ${name}</h1>
      ${found ? html`<span class="revision" data-revision=${found.revision}>revision ${found.revision}</span>` : null}
      ${found ? html`<span class="badge mode">${found.mode}</span>` : null}
      ${
        found
          ? html`<div class="actions"><button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete</button></div>`
          : null
      }
    </div>
    <${ErrorBanner} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${loaded.status === 'loading' ? html`<p class="muted" role="status">Loading…</p>` : null}
    ${loaded.status === 'missing' ? html`<p class="muted">There is no schema named <code>${name}</code> now. <${Link} href="/ui/schemas">All schemas</${Link}></p>` : null}
    ${
      found
        ? html`<${SchemaForm}
            key=${found.revision}
            initial=${found}
            onSaved=${(/** @type {Schema} */ saved, /** @type {string} */ warning) => {
              setNotice(
                `Saved: schema ${saved.name} is now at revision ${saved.revision}.${warning ? ` ${warning}` : ''}`,
              )
              void read()
            }}
            onStale=${() => void read()}
          />`
        : null
    }
    ${found ? html`<${CurrentViolators} name=${name} refreshKey=${reads} />` : null}
    <${ConfirmDialog}
      id="confirm-delete-schema"
      open=${confirming}
      title=${`Delete schema ${name}?`}
      confirmLabel="Delete"
      busy=${busy}
      onConfirm=${remove}
      onCancel=${() => setConfirming(false)}
    >
      <p>The schema is removed now (only if it is still at revision ${found?.revision}). Writes under its prefix are then checked by the schema with the next longest prefix, if any.</p>
    </${ConfirmDialog}>
  `
}

/** The configs that break the schema now. @param {{ name: string, refreshKey: number }} props */
function CurrentViolators({ name, refreshKey }) {
  const [state, setState] = useState(
    /** @type {{ status: 'loading' | 'failed' } | { status: 'listed', violators: Violator[], total: number }} */ ({
      status: 'loading',
    }),
  )
  useEffect(() => {
    const controller = new AbortController()
    api(`${schemaPath(name)}/violations`, { signal: controller.signal }).then(
      (response) => setState({ status: 'listed', violators: response.body.items, total: response.body.total }),
      (error) => {
        if (controller.signal.aborted) return
        setState({ status: 'failed' })
        showError(error, 'The configs that break the schema could not be listed.')
      },
    )
    return () => controller.abort()
  }, [name, refreshKey])
  return html`
    <section class="panel" aria-labelledby="violations-title">
      <h2 id="violations-title">Configs that break it now</h2>
      ${state.status === 'loading' ? html`<p class="muted" role="status">Checking…</p>` : null}
      ${state.status === 'failed' ? html`<p class="muted">Not known: listing them failed.</p>` : null}
      ${state.status === 'listed' && state.total === 0 ? html`<p class="muted">None: every config it governs that you may read passes it.</p>` : null}
      ${
        state.status === 'listed' && state.total > 0
          ? html`<${ViolatorsTable} violators=${state.violators} total=${state.total} caption=${`${breakCount(state.total)} now`} />`
          : null
      }
    </section>
  `
}
