/** The console's entry: the header, the token dialog, and the page the URL names. */
import { render } from 'preact'
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { getToken, onUnauthorized, tokenAnswered, UNAUTHORIZED } from './api.js'
import { resetBanner } from './banner.js'
import { ConfigPage } from './config-page.js'
import { TokenDialog } from './dialogs.js'
import { html } from './html.js'
import { ListPage } from './list-page.js'
import { RolloutPage } from './rollout-page.js'
import { RolloutsPage } from './rollouts-page.js'
import { Link, onNavigate, routeOf } from './router.js'
import { SchemaPage } from './schema-page.js'
import { SchemasPage } from './schemas-page.js'

function App() {
  const [where, setWhere] = useState({ path: location.pathname, search: location.search })
  const [hasToken, setHasToken] = useState(getToken() !== '')
  const [tokenReason, setTokenReason] = useState(/** @type {string | null} */ (null))
  const [reloadKey, setReloadKey] = useState(0)
  const firstPage = useRef(true)

  useEffect(() => onNavigate(() => setWhere({ path: location.pathname, search: location.search })), [])
  useEffect(() => {
    const stop = onUnauthorized(() => setTokenReason(UNAUTHORIZED))
    return () => void stop()
  }, [])
  // After a move within the console, focus goes to the new page's heading, as a page load would;
  // the last page's error banner is not the new one's. A layout effect, so that focus moves in the
  // same commit that removed the link it was on: a plain effect waits for a frame, and until then
  // focus is on the body.
  useLayoutEffect(() => {
    resetBanner()
    if (firstPage.current) {
      firstPage.current = false
      return
    }
    const heading = /** @type {HTMLElement | null} */ (document.querySelector('main h1'))
    heading?.focus()
  }, [where.path, where.search])

  /** @param {boolean} changed */
  const tokenDone = (changed) => {
    setTokenReason(null)
    tokenAnswered(changed)
    if (!changed) return
    setHasToken(getToken() !== '')
    setReloadKey((key) => key + 1)
  }

  const route = routeOf(where.path)
  const inSchemas = route.page === 'schemas' || route.page === 'schema'
  const inRollouts = route.page === 'rollouts' || route.page === 'rollout'
  return html`
    <a class="skip" href="#main">Skip to the content</a>
    <header class="top">
      <${Link} href="/ui" class="brand">config-service</${Link}>
      <nav aria-label="Console" class="sections">
        <${Link} href="/ui" aria-current=${inSchemas || inRollouts ? undefined : 'page'}>Configs</${Link}>
        <${Link} href="/ui/schemas" aria-current=${inSchemas ? 'page' : undefined}>Schemas</${Link}>
        <${Link} href="/ui/rollouts" aria-current=${inRollouts ? 'page' : undefined}>Rollouts</${Link}>
      </nav>
      <nav aria-label="Elsewhere"><a href="/swagger">API docs</a></nav>
      <button type="button" class="secondary" onClick=${() => setTokenReason('')}>
        ${hasToken ? 'Token (set)' : 'Token'}
      </button>
    </header>
    <main id="main">
      ${page(route, where.search, reloadKey)}
    </main>
    <${TokenDialog} open=${tokenReason !== null} reason=${tokenReason ?? ''} onDone=${tokenDone} />
  `
}

/**
 * @param {ReturnType<typeof routeOf>} route
 * @param {string} search
 * @param {number} reloadKey
 */
function page(route, search, reloadKey) {
  if (route.page === 'config')
    return html`<${ConfigPage} key=${route.dcname} dcname=${route.dcname} reloadKey=${reloadKey} />`
  if (route.page === 'schema')
    return html`<${SchemaPage} key=${route.name} name=${route.name} reloadKey=${reloadKey} />`
  if (route.page === 'schemas') return html`<${SchemasPage} reloadKey=${reloadKey} />`
  if (route.page === 'rollout') return html`<${RolloutPage} key=${route.id} id=${route.id} reloadKey=${reloadKey} />`
  if (route.page === 'rollouts') return html`<${RolloutsPage} reloadKey=${reloadKey} />`
  return html`<${ListPage} search=${search} reloadKey=${reloadKey} />`
}

const root = document.getElementById('app')
if (root) {
  root.textContent = ''
  render(html`<${App} />`, root)
}
