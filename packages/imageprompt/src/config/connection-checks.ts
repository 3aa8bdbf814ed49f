/**
 * Checks on the settings that reach the network: the API key (it goes into a header) and the base
 * URL (it is printed in messages). Both fail before any request, and neither error shows a secret.
 */
import { ImagePromptError } from '../errors/errors.js';

export function configError(source: string, problem: string, hint: string): ImagePromptError {
  return new ImagePromptError({ code: 'INVALID_CONFIG', message: `${source} ${problem}`, hint });
}

/**
 * A key (or a wallet sign-in) goes into a header, so it must be visible ASCII. A pasted line break or space is refused
 * here, before any request, by an error that never shows the key (the runtime's own header error would).
 */
/** A character that cannot be sent in an HTTP header value: anything but visible ASCII. */
export const UNSENDABLE = /[^\x21-\x7e]/;

export function checkApiKey(key: string, source: string, secret = 'key'): void {
  const bad = UNSENDABLE.exec(key);
  if (!bad) return;
  const code = bad[0].charCodeAt(0);
  const what = code === 10 || code === 13 ? 'a line break' : code === 32 ? 'a space' : code < 32 || code === 127 ? 'a control character' : 'a character outside ASCII';
  throw configError(
    source,
    `holds ${what} at position ${bad.index + 1} of ${key.length}, which cannot be sent in an HTTP header (the ${secret} is not shown)`,
    `set the ${secret} again, copied without spaces or line breaks${secret === 'key' ? ' (keys are managed at https://venice.ai/settings/api)' : ''}`,
  );
}

/** The base URL, checked: http or https, and no user name or password in it (they would be printed and sent). */
export function checkBaseURL(value: string, source: string): string {
  const shown = JSON.stringify(withoutCredentials(value));
  const hint = 'give a full URL with its scheme, e.g. https://api.venice.ai/api/v1 (or http://127.0.0.1:<port>/api/v1 for a local server)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(source, `is not a URL (${shown})`, hint);
  }
  // "localhost:8080/api" parses, with "localhost:" as its scheme
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(source, `is not an http or https URL (${shown})`, hint);
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
    throw configError(source, `holds a user name or password (${url.href.replace(/\/+$/, '')})`, 'remove them from the URL; the Venice key goes in VENICE_API_KEY and is sent only in the Authorization header');
  }
  return value.replace(/\/+$/, '');
}

/** A URL-like string with anything before an "@" in its authority cut out, scheme or not, for messages. */
export function withoutCredentials(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, '$1');
}

/** Whether a URL's host is this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * A credential (an API key, a bearer token, a wallet sign-in) is sent over plain http:// only to
 * this machine (a local server or simulator); to any other host it would cross the network readable
 * by anyone on the way, so it is refused before any request.
 */
export function checkCredentialTransport(value: string, credential: string): void {
  const url = new URL(value);
  if (url.protocol !== 'http:' || isLoopback(url)) return;
  throw configError(
    credential,
    `would be sent over plain http:// to ${url.host}, where anyone on the way can read it`,
    `use https:// for ${url.host}, or a server on this machine (http://127.0.0.1:<port>) for local tests`,
  );
}
