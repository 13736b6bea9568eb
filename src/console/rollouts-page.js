/**
 * /ui/rollouts: the rollouts, newest first (GET /rollouts), each with its status, change and
 * target, and progress: all in the list's summaries, so the page is one request.
 */
import { useEffect, useState } from 'preact/hooks'
import { api } from './api.js'
import { bannerNow, clearBanner, ErrorBanner, showError } from './banner.js'
import { html } from './html.js'
import { changeText, progressText, targetText } from './rollout-text.js'
import { Link, rolloutHref } from './router.js'

/** @typedef {import('./rollout-text.js').RolloutSummary} RolloutSummary */

const PAGE = 50

/** @param {{ reloadKey: number }} props */
export function RolloutsPage({ reloadKey }) {
  const [state, setState] = useState(
    /** @type {{ status: 'loading' | 'failed' } | { status: 'listed', rollouts: RolloutSummary[], more: boolean }} */ ({
      status: 'loading',
    }),
  )

  useEffect(() => {
    document.title = 'Rollouts · config-service'
    const controller = new AbortController()
    const { signal } = controller
    const seen = bannerNow()
    const load = async () => {
      try {
        const response = await api(`/rollouts?limit=${PAGE}`, { signal })
        /** @type {RolloutSummary[]} */
        const rollouts = response.body.items
        setState({ status: 'listed', rollouts, more: response.body.more })
        clearBanner(seen)
      } catch (error) {
        if (signal.aborted) return
        setState((shown) => (shown.status === 'listed' ? shown : { status: 'failed' }))
        showError(error)
      }
    }
    void load()
    return () => controller.abort()
  }, [reloadKey])

  const rollouts = state.status === 'listed' ? state.rollouts : []
  return html`
    <div class="title-row"><h1 tabindex="-1">Rollouts</h1></div>
    <p class="muted">A rollout takes one change to many configs, wave by wave, watching its gates after each. Start one with <code>configctl rollout start</code> or <code>POST /rollouts</code>.</p>
    <${ErrorBanner} />
    ${state.status === 'loading' ? html`<p class="muted" role="status">Loading…</p>` : null}
    ${
      state.status === 'listed'
        ? html`<table class="configs rollouts">
            <caption>${rollouts.length === 0 ? 'No rollouts yet' : `${rollouts.length}${state.more ? ' newest' : ''} rollout${rollouts.length === 1 ? '' : 's'}`}</caption>
            <thead><tr><th scope="col">Rollout</th><th scope="col">Status</th><th scope="col">Change</th><th scope="col">Target</th><th scope="col">Progress</th></tr></thead>
            <tbody>
              ${rollouts.map(
                (rollout) => html`<tr key=${rollout.id} data-rollout=${rollout.id}>
                  <th scope="row"><${Link} href=${rolloutHref(rollout.id)}>${rollout.id}</${Link}></th>
                  <td class="status" data-status=${rollout.status}>${rollout.status}</td>
                  <td class="change" data-label="Change"><code>${changeText(rollout.change)}</code></td>
                  <td class="target" data-label="Target">${targetText(rollout.target)}</td>
                  <td class="progress" data-label="Progress">${progressText(rollout)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : null
    }
  `
}
