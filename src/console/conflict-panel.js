/**
 * What the editor shows when a save lost a race (412): the edit merged three ways with the
 * newer revision (merge.js), each conflict with a choice of mine or theirs, and a diff of what
 * saving the merge changes in that revision. Nothing is written until the person asks: the
 * merge, or, under a button that says so, their whole edit over the other change.
 */
import { useState } from 'preact/hooks'
import { DiffView } from './diff-view.js'
import { html } from './html.js'
import { prettyJson } from './json-lines.js'
import { pointerOf, resolveConflicts } from './merge.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {import('./merge.js').MergeResult} MergeResult
 * @typedef {import('./merge.js').Side} Side
 * @typedef {{ current: Config | null, revision: number | undefined, mine: unknown, merge: MergeResult | null }} Conflict
 */

/** A value as the choices show it: JSON, or that it is not there. @param {unknown} value */
function shown(value) {
  return value === undefined ? '(removed)' : JSON.stringify(value)
}

/**
 * @param {{
 *   conflict: Conflict, editedRevision: number | undefined, busy: boolean,
 *   onMerge: (value: unknown) => void, onOverwrite: () => void, onRecreate: () => void, onDiscard: () => void,
 * }} props
 */
export function ConflictPanel({ conflict, editedRevision, busy, onMerge, onOverwrite, onRecreate, onDiscard }) {
  const { current, revision, merge } = conflict
  const [sides, setSides] = useState(/** @type {(Side | undefined)[]} */ ([]))
  if (!current || !merge) {
    return html`
      <section class="conflict" role="alert" aria-labelledby="conflict-title">
        <h3 id="conflict-title">Not saved: the config was deleted while you edited it</h3>
        <p>Your edit was not written.</p>
        <div class="actions">
          <button type="button" disabled=${busy} onClick=${onRecreate}>Create it again with my edit</button>
          <button type="button" class="secondary" onClick=${onDiscard}>Discard my edit</button>
        </div>
      </section>
    `
  }
  const open = merge.conflicts.filter((_, index) => sides[index] === undefined).length
  const merged = resolveConflicts(
    merge,
    merge.conflicts.map((_, index) => sides[index] ?? 'theirs'),
  )
  /** @param {number} index @param {Side} side */
  const choose = (index, side) => setSides(merge.conflicts.map((_, i) => (i === index ? side : sides[i])))
  return html`
    <section class="conflict" role="alert" aria-labelledby="conflict-title">
      <h3 id="conflict-title">Not saved: the config changed while you edited it</h3>
      <p>
        You edited revision ${editedRevision}; revision ${revision} is the current one now. Your edit was not written.
        Below, your changes merged into revision ${revision}: what only you changed is applied, what only they
        changed is kept${merge.conflicts.length > 0 ? ', and what you both changed is yours to decide' : ''}.
      </p>
      ${merge.conflicts.map(
        (each, index) => html`<fieldset class="merge-conflict" data-pointer=${pointerOf(each.path)}>
          <legend>Both changed <code>${pointerOf(each.path) || '(the whole config)'}</code></legend>
          <label><input type="radio" name=${`conflict-${index}`} checked=${sides[index] === 'mine'}
            onChange=${() => choose(index, 'mine')} /> Mine: <code>${shown(each.mine)}</code></label>
          <label><input type="radio" name=${`conflict-${index}`} checked=${sides[index] === 'theirs'}
            onChange=${() => choose(index, 'theirs')} /> Theirs: <code>${shown(each.theirs)}</code></label>
        </fieldset>`,
      )}
      <${DiffView} before=${prettyJson(current).text} after=${prettyJson(merged).text}
        beforeLabel=${`revision ${revision} (current)`} afterLabel="the merged edit" />
      ${open > 0 ? html`<p class="muted">Choose mine or theirs for ${open === 1 ? 'the conflict' : `each of the ${open} conflicts`} to save the merge.</p>` : null}
      <div class="actions">
        <button type="button" disabled=${busy || open > 0} onClick=${() => onMerge(merged)}>
          Save the merged edit on revision ${revision}
        </button>
        <button type="button" class="danger" disabled=${busy} onClick=${onOverwrite}>
          Overwrite revision ${revision} with my edit
        </button>
        <button type="button" class="secondary" onClick=${onDiscard}>Discard my edit</button>
      </div>
    </section>
  `
}
