/**
 * A config's consumers in one line, from GET /configs/<dcname>/consumers: how many of the live
 * ones run the config's current revision, the rejections with their messages, and the expired
 * reports counted apart (a pod that stopped reporting says nothing about the revision it ran).
 * Read again whenever the config changes (`refreshKey`), since a new revision changes the count.
 */
import { useEffect, useState } from 'preact/hooks'
import { api, configPath } from './api.js'
import { showError } from './banner.js'
import { html } from './html.js'

/**
 * @typedef {{ consumer: string, revision: number, state: 'applied' | 'rejected', status: 'applied' | 'rejected' | 'expired', message?: string }} Consumer
 */

/**
 * The line's words: "12 of 14 on revision 57, 1 rejected, 1 expired".
 * @param {Consumer[]} consumers
 * @param {number} revision
 */
export function consumersSummary(consumers, revision) {
  const live = consumers.filter((c) => c.status !== 'expired')
  const current = live.filter((c) => c.status === 'applied' && c.revision === revision).length
  const rejected = live.filter((c) => c.status === 'rejected')
  const expired = consumers.length - live.length
  const parts = [`${current} of ${live.length} on revision ${revision}`]
  if (rejected.length > 0) parts.push(`${rejected.length} rejected`)
  if (expired > 0) parts.push(`${expired} expired`)
  return { text: parts.join(', '), rejected }
}

/** @param {{ dcname: string, revision: number | undefined, refreshKey: number }} props */
export function ConsumersLine({ dcname, revision, refreshKey }) {
  const [consumers, setConsumers] = useState(/** @type {Consumer[] | null} */ (null))

  useEffect(() => {
    const controller = new AbortController()
    api(`${configPath(dcname)}/consumers`, { signal: controller.signal }).then(
      (response) => setConsumers(response.body),
      (error) => {
        if (!controller.signal.aborted) showError(error)
      },
    )
    return () => controller.abort()
  }, [dcname, refreshKey])

  if (consumers === null || revision === undefined) return null
  if (consumers.length === 0)
    return html`<p class="consumers muted" data-consumers="0">No consumer reports on this config.</p>`
  const { text, rejected } = consumersSummary(consumers, revision)
  return html`<div class="consumers" data-consumers=${consumers.length}>
    <p><strong>Consumers:</strong> <span class="consumers-count">${text}</span></p>
    ${
      rejected.length > 0
        ? html`<ul class="rejections">
            ${rejected.map(
              (c) => html`<li key=${c.consumer} data-consumer=${c.consumer}>
                <code>${c.consumer}</code> rejected revision ${c.revision}: <span class="message">${c.message || '(no message)'}</span>
              </li>`,
            )}
          </ul>`
        : null
    }
  </div>`
}
