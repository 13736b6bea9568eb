/**
 * The filters of /search as a form: a name prefix (`prefix`), then rows of a field (`dcname` or
 * `metadata.<path>`) and the value it must have; all must match. Applying them puts them in the
 * page's URL, so a filtered list can be shared and reloaded.
 */
import { useEffect, useState } from 'preact/hooks'
import { html } from './html.js'

/** @typedef {{ field: string, value: string }} FilterRow */

/** Query parameters that are paging or the name prefix, not filter rows. */
const NOT_ROWS = ['limit', 'cursor', 'prefix']

/** @param {URLSearchParams} query @returns {FilterRow[]} */
export function filtersOf(query) {
  return [...query].filter(([field]) => !NOT_ROWS.includes(field)).map(([field, value]) => ({ field, value }))
}

const SUGGESTIONS = [
  'dcname',
  'metadata.monitoring.enabled',
  'metadata.limits.cpu.enabled',
  'metadata.limits.cpu.value',
]

/** @param {{ query: URLSearchParams, onApply: (rows: FilterRow[], prefix: string) => void }} props */
export function FilterBar({ query, onApply }) {
  const [rows, setRows] = useState(() => withBlank(filtersOf(query)))
  const [prefix, setPrefix] = useState(query.get('prefix') ?? '')
  useEffect(() => {
    setRows(withBlank(filtersOf(query)))
    setPrefix(query.get('prefix') ?? '')
  }, [query])
  /** @param {number} index @param {Partial<FilterRow>} change */
  const update = (index, change) => setRows(rows.map((row, i) => (i === index ? { ...row, ...change } : row)))
  /** @param {SubmitEvent} event */
  const submit = (event) => {
    event.preventDefault()
    const given = rows.filter((row) => row.field.trim() !== '')
    onApply(
      given.map((row) => ({ field: row.field.trim(), value: row.value })),
      prefix.trim(),
    )
  }
  return html`
    <form class="filters panel" role="search" aria-label="Filter configs" onSubmit=${submit}>
      <datalist id="filter-fields">${SUGGESTIONS.map((field) => html`<option value=${field}></option>`)}</datalist>
      <div class="row">
        <div class="field">
          <label for="filter-prefix">Name starts with</label>
          <input id="filter-prefix" placeholder="payments-" value=${prefix} autocomplete="off" spellcheck="false"
            onInput=${(/** @type {Event} */ e) => setPrefix(/** @type {HTMLInputElement} */ (e.currentTarget).value)} />
        </div>
      </div>
      ${rows.map(
        (row, index) => html`<div class="row filter-row">
          <div class="field">
            <label for=${`filter-field-${index}`}>Field</label>
            <input id=${`filter-field-${index}`} list="filter-fields" placeholder="metadata.monitoring.enabled" value=${row.field}
              autocomplete="off" spellcheck="false"
              onInput=${(/** @type {Event} */ e) => update(index, { field: /** @type {HTMLInputElement} */ (e.currentTarget).value })} />
          </div>
          <div class="field">
            <label for=${`filter-value-${index}`}>Value</label>
            <input id=${`filter-value-${index}`} placeholder="true" value=${row.value} autocomplete="off" spellcheck="false"
              onInput=${(/** @type {Event} */ e) => update(index, { value: /** @type {HTMLInputElement} */ (e.currentTarget).value })} />
          </div>
          ${
            rows.length > 1
              ? html`<button type="button" class="secondary small" aria-label=${`Remove filter ${index + 1}`}
                  onClick=${() => setRows(rows.filter((_, i) => i !== index))}>Remove</button>`
              : null
          }
        </div>`,
      )}
      <div class="actions">
        <button type="submit">Apply filters</button>
        <button type="button" class="secondary" onClick=${() => setRows([...rows, { field: '', value: '' }])}>Add a filter</button>
        <button type="button" class="secondary" onClick=${() => onApply([], '')}>Clear</button>
      </div>
    </form>
  `
}

/** @param {FilterRow[]} rows */
function withBlank(rows) {
  return rows.length > 0 ? rows : [{ field: '', value: '' }]
}
