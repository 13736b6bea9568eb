/**
 * The page's one error banner. Every part of a page reports its failures here instead of
 * keeping a message of its own, so two failures never stand side by side: the newer replaces
 * the older. A banner stays until a later action succeeds: an action notes the banner shown when
 * it started (`bannerNow`) and, on success, clears that one only (`clearBanner`), so a success
 * that began before a newer failure never hides it.
 */
import { useEffect, useState } from 'preact/hooks'
import { describeError } from './api.js'
import { html } from './html.js'

/** @typedef {{ text: string, hint: string }} Banner */

/** @type {Banner | null} */
let shown = null
/** @type {Set<(banner: Banner | null) => void>} */
const listeners = new Set()

/** @param {Banner | null} banner */
function set(banner) {
  shown = banner
  for (const listener of listeners) listener(banner)
}

/**
 * @param {unknown} error
 * @param {string} [hint] what to do about it, where the page knows more than the error says
 */
export function showError(error, hint = '') {
  set({ text: describeError(error), hint })
}

/** The banner shown now, to hand to `clearBanner` once the action started now succeeds. */
export function bannerNow() {
  return shown
}

/**
 * Clears the banner, unless a newer one was shown since `seen` (from `bannerNow`).
 * @param {Banner | null} seen
 */
export function clearBanner(seen) {
  if (shown !== null && shown === seen) set(null)
}

/** A new page starts without the last one's banner. */
export function resetBanner() {
  if (shown !== null) set(null)
}

export function ErrorBanner() {
  const [banner, setBanner] = useState(shown)
  useEffect(() => {
    listeners.add(setBanner)
    setBanner(shown)
    return () => void listeners.delete(setBanner)
  }, [])
  if (!banner) return null
  return html`<div class="error banner" role="alert">
    <p>${banner.text}</p>
    ${banner.hint ? html`<p class="hint">${banner.hint}</p>` : null}
  </div>`
}
