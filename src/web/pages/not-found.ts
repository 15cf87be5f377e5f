/** The 404 page: says what was asked for, escaped, and links home through the nav. */
import { html } from '../html.js';
import { layout } from './layout.js';

export function renderNotFound(environment: string, what: string): string {
  return layout({ title: 'Not found', environment, path: '', updatedAt: undefined, body: html`<p>${what}</p>` });
}
