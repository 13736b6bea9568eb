/**
 * A JSON editor (a textarea) that shows the API's field errors where they belong: each error's
 * JSON Pointer is mapped to its line of the pretty-printed config, the line is marked and the
 * message written at its end, and a summary lists every pointer with a button to its line.
 *
 * The marks are drawn on a layer behind the transparent textarea, with the same font and
 * spacing, so the text stays an ordinary textarea (keyboard, selection, undo all native).
 */
import { html } from './html.js'

/** @typedef {{ pointer: string, message: string, line: number }} LineError */

/**
 * @param {{
 *   id: string, label: string, text: string, errors: LineError[], stale: boolean,
 *   onText: (text: string) => void,
 * }} props
 */
export function JsonEditor({ id, label, text, errors, stale, onText }) {
  const lines = text.split('\n')
  /** @type {Map<number, LineError[]>} */
  const byLine = new Map()
  if (!stale) for (const error of errors) byLine.set(error.line, [...(byLine.get(error.line) ?? []), error])
  const summaryId = `${id}-errors`
  return html`
    <div class="editor">
      <label for=${id}>${label}</label>
      <div class="editor-scroll">
        <div class="editor-sizer">
          <div class="editor-backdrop" aria-hidden="true">
            ${lines.map((line, index) => {
              const here = byLine.get(index)
              return html`<div class=${here ? 'editor-line bad' : 'editor-line'} data-line=${index + 1}>
                <span class="gutter">${index + 1}</span><span class="ghost">${line || ' '}</span>${here?.map(
                  (error) => html`<span class="inline-error">${error.message}</span>`,
                )}
              </div>`
            })}
          </div>
          <textarea
            id=${id}
            class="editor-text"
            spellcheck="false"
            autocapitalize="off"
            wrap="off"
            aria-invalid=${errors.length > 0 ? 'true' : 'false'}
            aria-describedby=${errors.length > 0 ? summaryId : undefined}
            value=${text}
            onInput=${(/** @type {InputEvent} */ event) => onText(/** @type {HTMLTextAreaElement} */ (event.currentTarget).value)}
          ></textarea>
        </div>
      </div>
      ${errors.length > 0 ? html`<${ErrorSummary} id=${summaryId} editorId=${id} text=${text} errors=${errors} stale=${stale} />` : null}
    </div>
  `
}

/** @param {{ id: string, editorId: string, text: string, errors: LineError[], stale: boolean }} props */
function ErrorSummary({ id, editorId, text, errors, stale }) {
  /** @param {number} line */
  const goTo = (line) => {
    const textarea = /** @type {HTMLTextAreaElement | null} */ (document.getElementById(editorId))
    if (!textarea) return
    const lines = text.split('\n')
    const start = lines.slice(0, line).reduce((sum, each) => sum + each.length + 1, 0)
    textarea.focus()
    textarea.setSelectionRange(start, start + (lines[line]?.length ?? 0))
  }
  return html`
    <div id=${id} class="error-summary" role="alert">
      <p><strong>${errors.length === 1 ? 'One field needs a fix' : `${errors.length} fields need a fix`}</strong>
        ${stale ? ' (the text changed since: line numbers may have moved)' : ''}</p>
      <ul>
        ${errors.map(
          (error) => html`<li>
            <button type="button" class="link" onClick=${() => goTo(error.line)}>
              Line ${error.line + 1}</button>: <code>${error.pointer || '(the whole body)'}</code> ${error.message}
          </li>`,
        )}
      </ul>
    </div>
  `
}
