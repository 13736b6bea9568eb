/**
 * The console's two pages live at real URLs (/ui, /ui/configs/<dcname>) that the service
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

/**
 * The page a path names.
 * @param {string} path
 * @returns {{ page: 'list' } | { page: 'config', dcname: string }}
 */
export function routeOf(path) {
  const match = /^\/ui\/configs\/([^/]+)\/?$/.exec(path)
  if (!match?.[1]) return { page: 'list' }
  try {
    return { page: 'config', dcname: decodeURIComponent(match[1]) }
  } catch {
    return { page: 'config', dcname: match[1] }
  }
}
