import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SpriteRecord } from '@sprites/store'
import { readBody } from '../http/body.ts'
import type { TokenOrgs } from './url-auth.ts'
import {
  SESSION_TTL_MS,
  sessionFromCookie,
  sessionSetCookie,
  type URLSessions,
} from './url-sessions.ts'

/** Path on every sprite host (auth `sprite`) that takes the login form; never forwarded. */
export const LOGIN_PATH = '/__sprite/login'
/** Path that ends a browser login; never forwarded. */
export const LOGOUT_PATH = '/__sprite/logout'
const MAX_FORM_BYTES = 8 * 1024

export interface LoginDeps {
  tokens: TokenOrgs
  sessions: URLSessions
}

/** True for a browser navigation: GET/HEAD that accepts HTML. */
export function wantsHTML(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  return (req.headers.accept ?? '').includes('text/html')
}

/** True when the request is for the login or logout path (query ignored). */
export function isLoginPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0]
  return path === LOGIN_PATH || path === LOGOUT_PATH
}

/**
 * `GET` shows the form; `POST` (urlencoded `token`, `next`) checks the token against the
 * sprite's org, sets the session cookie and redirects (303) to `next`; the logout path clears
 * the cookie.
 */
export async function handleLogin(
  d: LoginDeps,
  req: IncomingMessage,
  res: ServerResponse,
  sprite: SpriteRecord,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sprite')
  const secure = isEncrypted(req)
  if (url.pathname === LOGOUT_PATH) {
    const old = sessionFromCookie(req.headers.cookie)
    if (old) d.sessions.delete(old)
    res.writeHead(303, { Location: '/', 'Set-Cookie': sessionSetCookie('', secure, 0) })
    return void res.end()
  }
  if (req.method !== 'POST') return sendLoginPage(res, safeNext(url.searchParams.get('next')))
  const form = new URLSearchParams((await readBody(req, MAX_FORM_BYTES)).toString('utf8'))
  const next = safeNext(form.get('next'))
  const token = (form.get('token') ?? '').trim()
  const identity = token ? await d.tokens.resolve(token) : null
  if (!identity || identity.orgID !== sprite.orgID) {
    return sendLoginPage(res, next, 'That token does not open this sprite.')
  }
  const session = d.sessions.create(sprite.id, sprite.orgID, identity.tokenID)
  res.writeHead(303, {
    Location: next,
    'Set-Cookie': sessionSetCookie(session, secure, SESSION_TTL_MS),
    'Cache-Control': 'no-store',
  })
  res.end()
}

/** 401 with the login form; after login the browser returns to `next`. */
export function sendLoginPage(res: ServerResponse, next: string, error?: string): void {
  const body = loginHTML(next, error)
  res.writeHead(401, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    'X-Frame-Options': 'DENY',
  })
  res.end(body)
}

/** A same-host path to return to: absolute path only (no scheme, no `//host`). */
export function safeNext(raw: string | null | undefined): string {
  if (!raw?.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/'
  return isLoginPath(raw) ? '/' : raw
}

function isEncrypted(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true
}

function escapeHTML(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )
}

function loginHTML(next: string, error?: string): string {
  const err = error ? `<p class="err">${escapeHTML(error)}</p>` : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Log in to this sprite</title>
<style>body{font:16px system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}.err{color:#b00}</style>
</head><body><h1>Log in to this sprite</h1>
<p>Paste an API token of the sprite's organization.</p>${err}
<form id="sprite-login" method="post" action="${LOGIN_PATH}">
<input type="password" name="token" id="token" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escapeHTML(next)}">
<button type="submit">Log in</button></form></body></html>
`
}
