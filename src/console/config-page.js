/** /ui/configs/<dcname>: the config readably, its history and diffs, edit, roll back, delete. */
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, configPath, describeError, etagOf, revisionOf } from './api.js'
import { ConfirmDialog } from './dialogs.js'
import { EditForm } from './edit-form.js'
import { HistorySection } from './history.js'
import { html } from './html.js'
import { ConfigView } from './metadata.js'
import { Link } from './router.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {{ status: 'loading' } | { status: 'found', config: Config, revision: number | undefined } | { status: 'missing' } | { status: 'failed', message: string }} Loaded
 * @typedef {{ kind: 'delete' } | { kind: 'rollback', revision: number }} Confirm
 */

/** @param {{ dcname: string, reloadKey: number }} props */
export function ConfigPage({ dcname, reloadKey }) {
  const [loaded, setLoaded] = useState(/** @type {Loaded} */ ({ status: 'loading' }))
  const [editing, setEditing] = useState(false)
  const [notice, setNotice] = useState('')
  const [failure, setFailure] = useState('')
  const [confirm, setConfirm] = useState(/** @type {Confirm | null} */ (null))
  const [busy, setBusy] = useState(false)
  const [historyKey, setHistoryKey] = useState(0)

  const load = async () => {
    try {
      const response = await api(configPath(dcname))
      setLoaded({ status: 'found', config: response.body, revision: revisionOf(response.headers) })
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) setLoaded({ status: 'missing' })
      else setLoaded({ status: 'failed', message: describeError(error) })
    }
    setHistoryKey((key) => key + 1)
  }
  useEffect(() => {
    document.title = `${dcname} · config-service`
    setEditing(false)
    void load()
  }, [dcname, reloadKey])

  const found = loaded.status === 'found' ? loaded : null
  const ifMatch = found?.revision === undefined ? {} : { ifMatch: etagOf(found.revision) }

  const run = async (/** @type {() => Promise<string>} */ action) => {
    setBusy(true)
    setFailure('')
    try {
      setNotice(await action())
      setConfirm(null)
      await load()
    } catch (error) {
      setConfirm(null)
      setFailure(
        error instanceof ApiError && error.status === 412
          ? 'Not done: the config changed since this page read it. The newest version is shown now; look and try again.'
          : describeError(error),
      )
      if (error instanceof ApiError && error.status === 412) await load()
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
      ${
        found && !editing
          ? html`<div class="actions">
              <button type="button" onClick=${() => setEditing(true)}>Edit</button>
              <button type="button" class="danger" onClick=${() => setConfirm({ kind: 'delete' })}>Delete</button>
            </div>`
          : null
      }
    </div>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${failure ? html`<p class="error" role="alert">${failure}</p>` : null}
    ${loaded.status === 'loading' ? html`<p class="muted" role="status">Loading…</p>` : null}
    ${loaded.status === 'failed' ? html`<p class="error" role="alert">${loaded.message}</p>` : null}
    ${loaded.status === 'missing' ? html`<p class="muted">There is no config named <code>${dcname}</code> now.</p>` : null}
    ${
      found && editing
        ? html`<${EditForm}
            mode="edit"
            initial=${found.config}
            baseRevision=${found.revision}
            onSaved=${(/** @type {Config} */ config, /** @type {number | undefined} */ revision) => {
              setEditing(false)
              setNotice(`Saved: ${config.dcname} is now at revision ${revision}.`)
              void load()
            }}
            onCancel=${() => setEditing(false)}
          />`
        : null
    }
    ${found && !editing ? html`<${ConfigView} config=${found.config} />` : null}
    ${
      loaded.status === 'found' || loaded.status === 'missing'
        ? html`<${HistorySection}
            dcname=${dcname}
            current=${found?.config ?? null}
            currentRevision=${found?.revision}
            refreshKey=${historyKey}
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
