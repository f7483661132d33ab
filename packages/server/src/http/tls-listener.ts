import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { SpritesError } from '@sprites/protocol'

export interface TLSListenerOptions {
  certFile: string
  keyFile: string
  listen: { host: string; port: number }
}

export interface TLSListener {
  /** `https://host:port` of the bound address. */
  url(): string
  /** Stops accepting and drops open TLS connections. */
  close(): Promise<void>
}

/**
 * A second listener that terminates TLS and hands every request and upgrade to `server`'s own
 * handlers, so the API and the sprite URLs behave the same over https (the proxy sees
 * `socket.encrypted` and sends `X-Forwarded-Proto: https`, and login cookies get `Secure`).
 * @throws SpritesError invalid_argument when the certificate or key cannot be read or used.
 */
export async function startTLSListener(
  server: Server,
  o: TLSListenerOptions,
): Promise<TLSListener> {
  const [cert, key] = await Promise.all([readPEM(o.certFile), readPEM(o.keyFile)])
  let tls: ReturnType<typeof createServer>
  try {
    tls = createServer({ cert, key })
  } catch (err) {
    throw new SpritesError(
      'invalid_argument',
      `TLS certificate or key unusable: ${(err as Error).message}`,
    )
  }
  tls.on('request', (req, res) => server.emit('request', req, res))
  tls.on('upgrade', (req, socket, head) => server.emit('upgrade', req, socket, head))
  await new Promise<void>((resolve, reject) => {
    tls.once('error', reject)
    tls.listen(o.listen.port, o.listen.host, () => {
      tls.off('error', reject)
      resolve()
    })
  })
  return {
    url: () => {
      const a = tls.address() as AddressInfo
      return `https://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
    },
    close: () =>
      new Promise<void>((resolve) => {
        tls.close(() => resolve())
        tls.closeAllConnections()
      }),
  }
}

async function readPEM(path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw new SpritesError(
      'invalid_argument',
      `cannot read TLS file ${path}: ${(err as Error).message}`,
    )
  }
}
