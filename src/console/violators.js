/**
 * The configs that break a schema, each with its violations (pointer, keyword, message): what a
 * refused schema change answers (422 schema-violators) and what GET /schemas/{name}/violations
 * lists. The service sends the first 100 by dcname and the total.
 */
import { html } from './html.js'
import { configHref, Link } from './router.js'

/** @typedef {import('./api.js').Violator} Violator */

/** @param {{ violators: Violator[], total: number, caption: string }} props */
export function ViolatorsTable({ violators, total, caption }) {
  const more = total > violators.length ? ` (the first ${violators.length} are listed)` : ''
  return html`
    <table class="violators">
      <caption>${caption}${more}</caption>
      <thead><tr><th scope="col">Config</th><th scope="col">Violations</th></tr></thead>
      <tbody>
        ${violators.map(
          (violator) => html`<tr key=${violator.dcname} data-dcname=${violator.dcname}>
            <th scope="row"><${Link} href=${configHref(violator.dcname)}>${violator.dcname}</${Link}></th>
            <td><ul>
              ${violator.violations.map(
                (v) =>
                  html`<li><code>${v.pointer || '(the metadata)'}</code> ${v.message}${v.keyword ? html` <span class="muted">(${v.keyword})</span>` : null}</li>`,
              )}
            </ul></td>
          </tr>`,
        )}
      </tbody>
    </table>
  `
}

/** @param {number} total */
export function breakCount(total) {
  return total === 1 ? '1 config breaks it' : `${total} configs break it`
}
