/** A line diff shown as a person reads one: removed lines marked "-", added "+", both in words for screen readers. */
import { diffLines } from './diff.js'
import { html } from './html.js'

/** @param {{ before: string, after: string, beforeLabel: string, afterLabel: string }} props */
export function DiffView({ before, after, beforeLabel, afterLabel }) {
  const lines = diffLines(before, after)
  const added = lines.filter((line) => line.kind === 'added').length
  const removed = lines.filter((line) => line.kind === 'removed').length
  return html`
    <figure class="diff">
      <figcaption>
        From <strong>${beforeLabel}</strong> to <strong>${afterLabel}</strong>:
        ${added === 0 && removed === 0 ? ' no difference.' : ` ${added} line(s) added, ${removed} removed.`}
      </figcaption>
      <pre tabindex="0" aria-label=${`Differences from ${beforeLabel} to ${afterLabel}`}>${lines.map((line) => {
        if (line.kind === 'added') return html`<ins><span class="sr-only">added: </span>+ ${line.text}</ins>`
        if (line.kind === 'removed') return html`<del><span class="sr-only">removed: </span>- ${line.text}</del>`
        return html`<span>  ${line.text}</span>`
      })}</pre>
    </figure>
  `
}
