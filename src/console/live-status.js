/** Whether a page's watch is live, as a dot and a word (read out politely when it changes). */
import { html } from './html.js'

/** @typedef {import('./watch.js').WatchState} WatchState */

const LABELS = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Not live',
}

/** @param {{ state: WatchState }} props */
export function LiveStatus({ state }) {
  return html`<span class=${`live ${state}`} role="status" aria-live="polite"><span class="dot" aria-hidden="true"></span>${LABELS[state]}</span>`
}
