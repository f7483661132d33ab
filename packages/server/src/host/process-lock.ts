import { createHash } from 'node:crypto'
import { mkdir, unlink } from 'node:fs/promises'
import { createConnection, createServer, type Server } from 'node:net'
import { dirname } from 'node:path'
import { SpritesError } from '@sprites/protocol'

/** A lock held by this process until {@link ProcessLock.release} or its end. */
export interface ProcessLock {
  /** Where the lock lives (a socket path, or `@…` for an abstract one). */
  readonly path: string
  release(): Promise<void>
}

/** Longest socket path the kernel takes (sun_path is 108 bytes, with the NUL). */
const MAX_SOCKET_PATH = 107

/**
 * Takes the lock at `path`: a Unix socket this process listens on. The kernel ends it with the
 * process, whatever the way it ends; a socket file left by a killed holder answers no connection,
 * so it is recognised as stale and replaced. Paths longer than a socket path can be use an
 * abstract socket named after them (then only processes of the same network namespace see it).
 * @throws SpritesError conflict when a live process holds it, naming `what` it protects
 */
export async function acquireProcessLock(path: string, what: string): Promise<ProcessLock> {
  const address =
    Buffer.byteLength(path) <= MAX_SOCKET_PATH
      ? path
      : `\0sprites-lock-${createHash('sha256').update(path).digest('hex').slice(0, 40)}`
  if (!address.startsWith('\0')) await mkdir(dirname(path), { recursive: true })
  const held = () =>
    new SpritesError('conflict', `another spritesd is using ${what}; stop it first (lock ${path})`)
  let server: Server
  try {
    server = await listen(address)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    if (address.startsWith('\0') || (await answers(address))) throw held()
    // A socket file of a holder that is gone: take its place.
    await unlink(address).catch(() => undefined)
    server = await listen(address).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'EADDRINUSE' ? held() : e
    })
  }
  server.unref()
  return {
    path: address.startsWith('\0') ? `@${address.slice(1)}` : address,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function listen(address: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Connections are only probes: they are answered by closing them.
    const server = createServer((socket) => socket.destroy())
    server.once('error', reject)
    server.listen(address, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

/** Whether a process accepts connections on the socket file. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
