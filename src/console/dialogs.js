/**
 * Modal dialogs on the native <dialog> element: it keeps focus inside while open, closes on
 * Escape, and gives focus back to what opened it.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { getToken, setToken } from './api.js'
import { html } from './html.js'

/** @param {boolean} open */
function useModal(open) {
  const ref = useRef(/** @type {HTMLDialogElement | null} */ (null))
  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    if (open && !dialog.open) dialog.showModal()
    if (!open && dialog.open) dialog.close()
  }, [open])
  return ref
}

/**
 * @param {{
 *   id: string, open: boolean, title: string, confirmLabel: string, busy?: boolean,
 *   children?: import('preact').ComponentChildren,
 *   onConfirm: () => void, onCancel: () => void,
 * }} props
 */
export function ConfirmDialog({ id, open, title, confirmLabel, busy, children, onConfirm, onCancel }) {
  const ref = useModal(open)
  return html`
    <dialog ref=${ref} id=${id} class="dialog" aria-labelledby=${`${id}-title`} onClose=${onCancel}>
      <h2 id=${`${id}-title`}>${title}</h2>
      ${children}
      <div class="actions">
        <button type="button" class="danger" disabled=${busy} onClick=${onConfirm}>${confirmLabel}</button>
        <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </dialog>
  `
}

/**
 * Asks for the API token. It is kept in this tab's session storage only and sent as
 * `Authorization: Bearer`; the service never sees it in a URL.
 * @param {{ open: boolean, reason: string, onDone: (changed: boolean) => void }} props
 */
export function TokenDialog({ open, reason, onDone }) {
  const ref = useModal(open)
  const [value, setValue] = useState('')
  useEffect(() => {
    if (open) setValue(getToken())
  }, [open])
  /** @param {SubmitEvent} event */
  const submit = (event) => {
    event.preventDefault()
    setToken(value.trim())
    onDone(true)
  }
  const forget = () => {
    setToken('')
    setValue('')
    onDone(true)
  }
  return html`
    <dialog ref=${ref} class="dialog" aria-labelledby="token-title" onClose=${() => onDone(false)}>
      <form onSubmit=${submit}>
        <h2 id="token-title">API token</h2>
        ${reason ? html`<p class="error" role="alert">${reason}</p>` : null}
        <p>
          A service that protects reads or writes needs a bearer token. It stays in this browser tab
          (session storage) until the tab is closed, and is sent only in the Authorization header.
        </p>
        <label for="token-input">Token</label>
        <input
          id="token-input"
          type="password"
          autocomplete="off"
          spellcheck="false"
          value=${value}
          onInput=${(/** @type {InputEvent} */ e) => setValue(/** @type {HTMLInputElement} */ (e.currentTarget).value)}
        />
        <div class="actions">
          <button type="submit">Use this token</button>
          <button type="button" class="secondary" onClick=${forget}>Forget the token</button>
          <button type="button" class="secondary" onClick=${() => onDone(false)}>Cancel</button>
        </div>
      </form>
    </dialog>
  `
}
