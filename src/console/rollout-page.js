/**
 * /ui/rollouts/<id>: one rollout (GET /rollouts/<id>): its status and reason, change, target and
 * gates, each wave's configs with their states, the timeline, and the buttons that steer it
 * (POST /rollouts/<id>/pause|resume|abort|approve). Rollouts have no watch, so while one is
 * still running the page reads it again every POLL_MS. A refused action (an approval by its
 * creator, a resume of what is not paused) is the problem's text in the page's banner.
 */
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api } from './api.js'
import { bannerNow, clearBanner, ErrorBanner, showError } from './banner.js'
import { html } from './html.js'
import { changeText, durationText, gateText, progressText, targetText } from './rollout-text.js'
import { configHref, Link } from './router.js'

/**
 * @typedef {import('./rollout-text.js').Rollout} Rollout
 * @typedef {import('./rollout-text.js').ConfigProgress} ConfigProgress
 * @typedef {'pause' | 'resume' | 'abort' | 'approve'} Verb
 */

const POLL_MS = 2000
/** A wave lists at most this many of its configs: a target may hold 10,000. */
const WAVE_ROWS = 100
const FINISHED = new Set(['reverted', 'completed', 'aborted'])

/** @param {string} id */
const rolloutPath = (id) => `/rollouts/${encodeURIComponent(id)}`

/**
 * The actions the status allows; the service still decides (a 409 says why not).
 * @param {string} status
 * @returns {Verb[]}
 */
function verbsFor(status) {
  if (FINISHED.has(status)) return []
  if (status === 'paused') return ['resume', 'abort']
  if (status === 'pending-approval') return ['approve', 'pause', 'abort']
  return ['pause', 'abort']
}

/** @param {{ id: string, reloadKey: number }} props */
export function RolloutPage({ id, reloadKey }) {
  const [loaded, setLoaded] = useState(
    /** @type {{ status: 'loading' | 'missing' | 'failed' } | { status: 'found', rollout: Rollout }} */ ({
      status: 'loading',
    }),
  )
  const [busy, setBusy] = useState(false)
  const [notice, setNotice] = useState('')
  const status = loaded.status === 'found' ? loaded.rollout.status : ''

  useEffect(() => {
    document.title = `${id} · config-service`
  }, [id])

  useEffect(() => {
    const controller = new AbortController()
    const seen = bannerNow()
    api(rolloutPath(id), { signal: controller.signal }).then(
      (response) => {
        setLoaded({ status: 'found', rollout: response.body })
        clearBanner(seen)
      },
      (error) => {
        if (controller.signal.aborted) return
        if (error instanceof ApiError && error.status === 404) return setLoaded({ status: 'missing' })
        setLoaded((shown) => (shown.status === 'found' ? shown : { status: 'failed' }))
        showError(error)
      },
    )
    return () => controller.abort()
  }, [id, reloadKey])

  // While it runs, read it again now and then: the next read starts once this one is shown.
  useEffect(() => {
    if (status === '' || FINISHED.has(status)) return
    const timer = setTimeout(() => {
      api(rolloutPath(id)).then(
        (response) => setLoaded({ status: 'found', rollout: response.body }),
        (error) => showError(error, 'The rollout is no longer read again: reload the page.'),
      )
    }, POLL_MS)
    return () => clearTimeout(timer)
  }, [id, loaded])

  const steer = async (/** @type {Verb} */ verb) => {
    const seen = bannerNow()
    setBusy(true)
    setNotice('')
    try {
      const response = await api(`${rolloutPath(id)}/${verb}`, { method: 'POST' })
      setLoaded({ status: 'found', rollout: response.body })
      setNotice(`${verb[0]?.toUpperCase()}${verb.slice(1)}: the rollout is now ${response.body.status}.`)
      clearBanner(seen)
    } catch (error) {
      showError(error)
    } finally {
      setBusy(false)
    }
  }

  const rollout = loaded.status === 'found' ? loaded.rollout : null
  return html`
    <nav aria-label="Breadcrumb" class="crumbs"><${Link} href="/ui/rollouts">Rollouts</${Link}> <span aria-hidden="true">/</span> <span aria-current="page">${id}</span></nav>
    <div class="title-row">
      <h1 tabindex="-1">Rollout ${id}</h1>
      ${rollout ? html`<span class="revision rollout-status" data-status=${rollout.status}>${rollout.status}</span>` : null}
      ${
        rollout
          ? html`<div class="actions steer">
              ${verbsFor(rollout.status).map(
                (verb) =>
                  html`<button type="button" key=${verb} class=${verb === 'abort' ? 'danger' : verb === 'approve' ? '' : 'secondary'} disabled=${busy} onClick=${() => steer(verb)}>${verb[0]?.toUpperCase()}${verb.slice(1)}</button>`,
              )}
            </div>`
          : null
      }
    </div>
    <${ErrorBanner} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${loaded.status === 'loading' ? html`<p class="muted" role="status">Loading…</p>` : null}
    ${loaded.status === 'missing' ? html`<p class="muted">There is no rollout <code>${id}</code>.</p>` : null}
    ${rollout ? html`<${RolloutBody} rollout=${rollout} />` : null}
  `
}

/** @param {{ rollout: Rollout }} props */
function RolloutBody({ rollout }) {
  const { plan } = rollout
  return html`
    ${rollout.reason ? html`<p class="reason"><strong>Why:</strong> ${rollout.reason}</p>` : null}
    <dl class="facts">
      <dt>Change</dt><dd><code>${changeText(rollout.change)}</code></dd>
      <dt>Target</dt><dd>${targetText(rollout.target)}</dd>
      <dt>Progress</dt><dd class="progress">${progressText(rollout)}</dd>
      <dt>Bake</dt><dd>${durationText(plan.bakeMs)}${rollout.bakeUntil ? `, until ${rollout.bakeUntil}` : ''}</dd>
      <dt>On failure</dt><dd>${plan.onFailure}</dd>
      <dt>Created</dt><dd>by ${rollout.createdBy} at ${rollout.createdAt}</dd>
      <dt>Approvals</dt><dd>${rollout.approvedBy.length} of ${plan.approvals}${rollout.approvedBy.length ? ` (${rollout.approvedBy.join(', ')})` : ''}</dd>
    </dl>
    <section aria-labelledby="gates-title">
      <h2 id="gates-title">Gates</h2>
      ${
        plan.gates.length === 0
          ? html`<p class="muted">No gates: each wave goes on once its bake ends.</p>`
          : html`<ul class="gates">${plan.gates.map((gate, i) => html`<li key=${i}>${gateText(gate)}</li>`)}</ul>`
      }
    </section>
    <section aria-labelledby="waves-title">
      <h2 id="waves-title">Waves</h2>
      ${plan.waves.map((_, wave) => html`<${Wave} key=${wave} rollout=${rollout} wave=${wave} />`)}
    </section>
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <ol class="timeline">
        ${rollout.timeline.map(
          (entry, i) => html`<li key=${i} data-event=${entry.event}>
            <time datetime=${entry.time}>${entry.time}</time> ${entry.event}${entry.wave === undefined ? '' : ` (wave ${entry.wave + 1})`}${entry.dcname ? ` ${entry.dcname}` : ''}${entry.detail ? `: ${entry.detail}` : ''}
          </li>`,
        )}
      </ol>
    </section>
  `
}

/** @param {{ rollout: Rollout, wave: number }} props */
function Wave({ rollout, wave }) {
  const configs = rollout.configs.filter((c) => c.wave === wave)
  /** @type {Record<string, number>} */
  const byState = {}
  for (const c of configs) byState[c.state] = (byState[c.state] ?? 0) + 1
  const states = Object.entries(byState)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ')
  const now = wave === rollout.wave && !FINISHED.has(rollout.status) ? ' (now)' : ''
  const shown = configs.slice(0, WAVE_ROWS)
  return html`<table class="configs wave" data-wave=${wave + 1}>
    <caption>Wave ${wave + 1}${now}: ${configs.length} config${configs.length === 1 ? '' : 's'}${states ? `, ${states}` : ''}${configs.length > shown.length ? ` (the first ${shown.length} listed)` : ''}</caption>
    <thead><tr><th scope="col">Config</th><th scope="col">State</th><th scope="col" class="num">Before</th><th scope="col" class="num">Applied</th><th scope="col" class="num">Reverted</th></tr></thead>
    <tbody>
      ${shown.map(
        (/** @type {ConfigProgress} */ c) => html`<tr key=${c.dcname} data-dcname=${c.dcname}>
          <th scope="row"><${Link} href=${configHref(c.dcname)}>${c.dcname}</${Link}></th>
          <td class="state">${c.state}</td>
          <td class="num">${c.before ?? ''}</td>
          <td class="num">${c.applied ?? ''}</td>
          <td class="num">${c.reverted ?? ''}</td>
        </tr>`,
      )}
    </tbody>
  </table>`
}
