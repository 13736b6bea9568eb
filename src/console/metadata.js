/**
 * How a config's metadata reads to a person: the typed fields (`monitoring.enabled`,
 * `limits.<resource>.enabled` and `.value`) as what they mean, everything else as JSON.
 */
import { html } from './html.js'
import { prettyJson } from './json-lines.js'

/** @typedef {import('./api.js').Config} Config */

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** @param {Record<string, unknown>} metadata */
function typedParts(metadata) {
  const monitoring = isObject(metadata.monitoring) ? metadata.monitoring.enabled : undefined
  const limits = isObject(metadata.limits) ? Object.entries(metadata.limits) : []
  return {
    monitoring: typeof monitoring === 'boolean' ? monitoring : undefined,
    limits: limits.map(([resource, limit]) => ({
      resource,
      enabled: isObject(limit) && typeof limit.enabled === 'boolean' ? limit.enabled : undefined,
      value: isObject(limit) && typeof limit.value === 'string' ? limit.value : undefined,
    })),
  }
}

/** The metadata without the typed fields (which are shown as such). @param {Record<string, unknown>} metadata */
function otherMetadata(metadata) {
  /** @type {Record<string, unknown>} */
  const rest = {}
  for (const [key, value] of Object.entries(metadata)) {
    if (key === 'limits' && isObject(value)) continue
    if (key === 'monitoring' && isObject(value)) {
      const { enabled: _enabled, ...more } = value
      if (Object.keys(more).length > 0) rest.monitoring = more
      continue
    }
    rest[key] = value
  }
  return rest
}

/**
 * One line for the list: "monitoring on · cpu 500m · team: payments".
 * @param {Record<string, unknown>} metadata
 */
export function summarize(metadata, most = 5) {
  const { monitoring, limits } = typedParts(metadata)
  const parts = []
  if (monitoring !== undefined) parts.push(`monitoring ${monitoring ? 'on' : 'off'}`)
  for (const limit of limits) {
    parts.push(limit.enabled === false ? `${limit.resource} off` : `${limit.resource} ${limit.value ?? 'on'}`)
  }
  for (const [key, value] of Object.entries(otherMetadata(metadata))) {
    parts.push(isObject(value) || Array.isArray(value) ? `${key}: …` : `${key}: ${JSON.stringify(value)}`)
  }
  if (parts.length === 0) return 'no metadata'
  const shown = parts.slice(0, most).join(' · ')
  return parts.length > most ? `${shown} · +${parts.length - most} more` : shown
}

/** @param {{ on: boolean | undefined }} props */
function OnOff({ on }) {
  if (on === undefined) return html`<span class="muted">not set</span>`
  return html`<span class=${on ? 'badge on' : 'badge off'}>${on ? 'Enabled' : 'Disabled'}</span>`
}

/** The config, readably. @param {{ config: Config }} props */
export function ConfigView({ config }) {
  const { monitoring, limits } = typedParts(config.metadata)
  const rest = otherMetadata(config.metadata)
  return html`
    <section class="panel" aria-labelledby="typed-title">
      <h2 id="typed-title">Settings</h2>
      <dl class="fields">
        <dt>Monitoring</dt>
        <dd data-field="monitoring.enabled"><${OnOff} on=${monitoring} /></dd>
      </dl>
      <h3>Limits</h3>
      ${
        limits.length === 0
          ? html`<p class="muted">No limits.</p>`
          : html`<table class="limits">
              <thead><tr><th scope="col">Resource</th><th scope="col">Enabled</th><th scope="col">Value</th></tr></thead>
              <tbody>
                ${limits.map(
                  (limit) => html`<tr data-limit=${limit.resource}>
                    <th scope="row">${limit.resource}</th>
                    <td><${OnOff} on=${limit.enabled} /></td>
                    <td>${limit.value === undefined ? html`<span class="muted">not set</span>` : html`<code>${limit.value}</code>`}</td>
                  </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h3>Other metadata</h3>
      ${
        Object.keys(rest).length === 0
          ? html`<p class="muted">None.</p>`
          : html`<pre class="json" tabindex="0" aria-label="Other metadata as JSON">${prettyJson(rest).text}</pre>`
      }
    </section>
    <details class="panel">
      <summary>The whole config as JSON</summary>
      <pre class="json" tabindex="0" aria-label="The config as JSON">${prettyJson(config).text}</pre>
    </details>
  `
}
