/**
 * /ui/configs/<dcname>: the config readably and live (live-config.js), its history and diffs,
 * edit, roll back, delete. Failures go to the page's one banner.
 */
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, configPath, etagOf, revisionOf } from './api.js'
import { bannerNow, clearBanner, ErrorBanner, showError } from './banner.js'
import { ConsumersLine } from './consumers-line.js'
import { ConfirmDialog } from './dialogs.js'
import { EditForm } from './edit-form.js'
import { HistorySection } from './history.js'
import { html } from './html.js'
import { useLiveConfig } from './live-config.js'
import { LiveStatus } from './live-status.js'
import { ConfigView } from './metadata.js'
import { Link } from './router.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {{ kind: 'delete' } | { kind: 'rollback', revision: number }} Confirm
 */

/** @param {{ dcname: string, reloadKey: number }} props */
export function ConfigPage({ dcname, reloadKey }) {
  const { loaded, watchState, changes, refresh } = useLiveConfig(dcname, reloadKey)
  const [editing, setEditing] = useState(false)
  const [notice, setNotice] = useState('')
  const [confirm, setConfirm] = useState(/** @type {Confirm | null} */ (null))
  const [busy, setBusy] = useState(false)

  // A new token reads the page again (useLiveConfig) but leaves an edit open: its save may be
  // the very write that asked for the token, and is retried with it.
  useEffect(() => {
    document.title = `${dcname} · config-service`
  }, [dcname])

  const found = loaded.status === 'found' ? loaded : null
  const ifMatch = found?.revision === undefined ? {} : { ifMatch: etagOf(found.revision) }

  const run = async (/** @type {() => Promise<string>} */ action) => {
    const seen = bannerNow()
    setBusy(true)
    setNotice('')
    try {
      setNotice(await action())
      setConfirm(null)
      clearBanner(seen)
      await refresh()
    } catch (error) {
      setConfirm(null)
      const stale = error instanceof ApiError && error.status === 412
      showError(
        error,
        stale ? 'The config changed since this page read it: the newest version is shown now; look and try again.' : '',
      )
      if (stale) await refresh()
    } finally {
      setBusy(false)
    }
  }
  const remove = () =>
    run(async () => {
      await api(configPath(dcname), { method: 'DELETE', ...ifMatch })
      return `Deleted ${dcname}. Its history is kept: roll back to a revision to restore it.`
    })
  const rollback = (/** @type {number} */ revision) =>
    run(async () => {
      const response = await api(`${configPath(dcname)}/rollback`, { method: 'POST', body: { revision }, ...ifMatch })
      return `Rolled back to revision ${revision}: the config is now at revision ${revisionOf(response.headers) ?? '?'}.`
    })

  return html`
    <nav aria-label="Breadcrumb" class="crumbs"><${Link} href="/ui">Configs</${Link}> <span aria-hidden="true">/</span> <span aria-current="page">${dcname}</span></nav>
    <div class="title-row">
      <h1 tabindex="-1">${dcname}</h1>
      ${found ? html`<span class="revision" data-revision=${found.revision}>revision ${found.revision}</span>` : null}
      <${LiveStatus} state=${watchState} />
      ${
        found && !editing
          ? html`<div class="actions">
              <button type="button" onClick=${() => setEditing(true)}>Edit</button>
              <button type="button" class="danger" onClick=${() => setConfirm({ kind: 'delete' })}>Delete</button>
            </div>`
          : null
      }
    </div>
    <${ErrorBanner} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${loaded.status === 'loading' ? html`<p class="muted" role="status">Loading…</p>` : null}
    ${loaded.status === 'missing' ? html`<p class="muted">There is no config named <code>${dcname}</code> now.</p>` : null}
    ${
      found && editing
        ? html`<${EditForm}
            mode="edit"
            initial=${found.config}
            baseRevision=${found.revision}
            currentRevision=${found.revision}
            onSaved=${(
              /** @type {Config} */ config,
              /** @type {number | undefined} */ revision,
              /** @type {string} */ warning,
            ) => {
              setEditing(false)
              setNotice(`Saved: ${config.dcname} is now at revision ${revision}.${warning ? ` ${warning}` : ''}`)
              void refresh()
            }}
            onCancel=${() => setEditing(false)}
          />`
        : null
    }
    ${found ? html`<${ConsumersLine} dcname=${dcname} revision=${found.revision} refreshKey=${changes} />` : null}
    ${found && !editing ? html`<${ConfigView} config=${found.config} />` : null}
    ${
      loaded.status === 'found' || loaded.status === 'missing'
        ? html`<${HistorySection}
            dcname=${dcname}
            current=${found?.config ?? null}
            currentRevision=${found?.revision}
            refreshKey=${changes}
            onRollback=${(/** @type {number} */ revision) => setConfirm({ kind: 'rollback', revision })}
          />`
        : null
    }
    <${ConfirmDialog}
      id="confirm-delete"
      open=${confirm?.kind === 'delete'}
      title=${`Delete ${dcname}?`}
      confirmLabel="Delete"
      busy=${busy}
      onConfirm=${remove}
      onCancel=${() => setConfirm(null)}
    >
      <p>The config is removed now (only if it is still at revision ${found?.revision}). Its history is kept, so it can be restored by a rollback.</p>
    </${ConfirmDialog}>
    <${ConfirmDialog}
      id="confirm-rollback"
      open=${confirm?.kind === 'rollback'}
      title=${`Roll back ${dcname}?`}
      confirmLabel=${`Roll back to revision ${confirm?.kind === 'rollback' ? confirm.revision : ''}`}
      busy=${busy}
      onConfirm=${() => confirm?.kind === 'rollback' && rollback(confirm.revision)}
      onCancel=${() => setConfirm(null)}
    >
      <p>The config as it was at revision ${confirm?.kind === 'rollback' ? confirm.revision : ''} is written again, as a new revision.</p>
    </${ConfirmDialog}>
  `
}
