/**
 * Browsing names as folders, as Consul's KV UI browses keys: below the current name prefix, the
 * names shown are grouped by their next segment up to a "-" (`payments-eu-1` under `payments-`
 * is in `payments-eu-`). Opening a group sets it as the prefix; the path above leads back up.
 * The groups are those of the names on the page shown (a page holds a bounded number of them).
 */
import { html } from './html.js'

const DELIMITER = '-'

/**
 * @param {string} prefix
 * @param {string[]} names sorted, each starting with `prefix`
 * @returns {{ prefix: string, count: number }[]} the groups below `prefix`, in name order
 */
export function foldersOf(prefix, names) {
  /** @type {Map<string, number>} */
  const groups = new Map()
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const at = name.indexOf(DELIMITER, prefix.length)
    if (at === -1) continue
    const group = name.slice(0, at + 1)
    groups.set(group, (groups.get(group) ?? 0) + 1)
  }
  return [...groups].map(([group, count]) => ({ prefix: group, count }))
}

/**
 * The prefixes above `prefix`, one per segment: `payments-eu-` gives `payments-`, `payments-eu-`.
 * @param {string} prefix
 */
export function pathOf(prefix) {
  const path = []
  for (let at = prefix.indexOf(DELIMITER); at !== -1; at = prefix.indexOf(DELIMITER, at + 1)) {
    path.push(prefix.slice(0, at + 1))
  }
  if (prefix !== '' && path.at(-1) !== prefix) path.push(prefix)
  return path
}

/** @param {{ prefix: string, names: string[], onOpen: (prefix: string) => void }} props */
export function Folders({ prefix, names, onOpen }) {
  const folders = foldersOf(prefix, names)
  const path = pathOf(prefix)
  if (folders.length === 0 && path.length === 0) return null
  return html`
    <nav class="folders panel" aria-label="Folders">
      <ol class="folder-path">
        <li><button type="button" class="link" onClick=${() => onOpen('')}>All configs</button></li>
        ${path.map(
          (step) => html`<li>
            ${
              step === prefix
                ? html`<span aria-current="location">${step}</span>`
                : html`<button type="button" class="link" onClick=${() => onOpen(step)}>${step}</button>`
            }
          </li>`,
        )}
      </ol>
      ${
        folders.length > 0
          ? html`<ul class="folder-list">
              ${folders.map(
                (folder) => html`<li>
                  <button type="button" class="secondary small" aria-label=${`Open folder ${folder.prefix}`}
                    onClick=${() => onOpen(folder.prefix)}>${folder.prefix} <span class="muted">(${folder.count})</span></button>
                </li>`,
              )}
            </ul>`
          : null
      }
    </nav>
  `
}
