/** htm bound to Preact: tagged templates instead of JSX, so the browser runs the sources as they are. */
import htm from 'htm'
import { h } from 'preact'

export const html = htm.bind(h)
