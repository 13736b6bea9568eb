/**
 * The console's pages live at real URLs (/ui, /ui/configs/<dcname>, /ui/schemas,
 * /ui/schemas/<name>, /ui/rollouts, /ui/rollouts/<id>) that the service
 * answers with the same page, so a link can be shared, reloaded or opened in a new tab; inside
 * the page, links move with the History API instead of reloading.
 */
import { html } from './html.js'

const NAVIGATE = 'console:navigate'

/**
 * @param {string} href
 * @param {{ replace?: boolean }} [options]
 */
export function navigate(href, options = {}) {
  if (options.replace) history.replaceState(null, '', href)
  else history.pushState(null, '', href)
  window.dispatchEvent(new Event(NAVIGATE))
}

/**
 * Calls `listener` whenever the URL changes (a link, the back button).
 * @param {() => void} listener
 */
export function onNavigate(listener) {
  window.addEventListener(NAVIGATE, listener)
  window.addEventListener('popstate', listener)
  return () => {
    window.removeEventListener(NAVIGATE, listener)
    window.removeEventListener('popstate', listener)
  }
}

/** A plain left click stays in the page; a modified one (new tab, new window) is the browser's. @param {MouseEvent} event */
function followInPage(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return
  const anchor = /** @type {HTMLAnchorElement} */ (event.currentTarget)
  event.preventDefault()
  navigate(anchor.getAttribute('href') ?? '/ui')
}

/** @param {{ href: string, children?: import('preact').ComponentChildren, [key: string]: unknown }} props */
export function Link({ href, children, ...rest }) {
  return html`<a href=${href} onClick=${followInPage} ...${rest}>${children}</a>`
}

/** @param {string} dcname */
export function configHref(dcname) {
  return `/ui/configs/${encodeURIComponent(dcname)}`
}

/** @param {string} name */
export function schemaHref(name) {
  return `/ui/schemas/${encodeURIComponent(name)}`
}

/** @param {string} id */
export function rolloutHref(id) {
  return `/ui/rollouts/${encodeURIComponent(id)}`
}

/** @param {string} part */
function decoded(part) {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

/**
 * The page a path names.
 * @param {string} path
 * @returns {{ page: 'list' } | { page: 'config', dcname: string } | { page: 'schemas' } | { page: 'schema', name: string }
 *   | { page: 'rollouts' } | { page: 'rollout', id: string }}
 */
export function routeOf(path) {
  const config = /^\/ui\/configs\/([^/]+)\/?$/.exec(path)
  if (config?.[1]) return { page: 'config', dcname: decoded(config[1]) }
  const schema = /^\/ui\/schemas\/([^/]+)\/?$/.exec(path)
  if (schema?.[1]) return { page: 'schema', name: decoded(schema[1]) }
  if (/^\/ui\/schemas\/?$/.test(path)) return { page: 'schemas' }
  const rollout = /^\/ui\/rollouts\/([^/]+)\/?$/.exec(path)
  if (rollout?.[1]) return { page: 'rollout', id: decoded(rollout[1]) }
  if (/^\/ui\/rollouts\/?$/.test(path)) return { page: 'rollouts' }
  return { page: 'list' }
}
