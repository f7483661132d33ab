import type { Readable, Writable } from 'node:stream'
import { DEFAULT_PATH, SPRITE_GID, SPRITE_HOME, SPRITE_UID } from '@sprites/protocol'
import type { SandboxProcess, SpawnOptions } from '@sprites/runtime'
import { FsError } from './fs-errors.ts'

/** The helper inside every sprite (packages/runtime/sprite-bin/sprite-fs). */
export const FS_HELPER_PATH = '/.sprite/bin/sprite-fs'
/** Group `sudo`, as for exec (D39). */
const SUDO_GID = 27
/** Chunk size of the helper's read/write protocol (its CHUNK). */
const CHUNK_BYTES = 1 << 20
/** A write keeps at most this many body bytes unacknowledged by the helper. */
const WRITE_WINDOW_BYTES = 8 << 20
/** JSON answers larger than this are refused (a listing of millions of files). */
const MAX_ANSWER_BYTES = 64 << 20
const SIGKILL = 9

/** The part of a sandbox the filesystem API uses. */
export interface FsSandbox {
  spawn(opts: SpawnOptions): Promise<SandboxProcess>
}

/** Starts the helper for one operation, as user `sprite` or (asRoot, D26) as root. */
export function spawnFsHelper(
  sandbox: FsSandbox,
  op: string,
  args: Record<string, unknown>,
  asRoot: boolean,
): Promise<SandboxProcess> {
  return sandbox.spawn({
    argv: ['sprite-fs', op, JSON.stringify(args)],
    path: FS_HELPER_PATH,
    ...helperIdentity(asRoot),
  })
}

/**
 * How the in-sprite fs programs run: as user `sprite` (in group `sudo`, as for exec, D39) or as
 * root, with a minimal environment, from `/`, with stdin.
 */
export function helperIdentity(
  asRoot: boolean,
): Omit<SpawnOptions, 'argv' | 'path'> & { stdin: true } {
  return {
    env: [`PATH=${DEFAULT_PATH}`, `HOME=${asRoot ? '/root' : SPRITE_HOME}`, 'LANG=C.UTF-8'],
    cwd: '/',
    uid: asRoot ? 0 : SPRITE_UID,
    gid: asRoot ? 0 : SPRITE_GID,
    groups: asRoot ? [] : [SUDO_GID],
    stdin: true,
  }
}

/** Splits the helper's stdout into lines; `onLine` sees each complete one. */
function lineReader(onLine: (line: string) => void, limit = MAX_ANSWER_BYTES) {
  let pending = ''
  return (chunk: Buffer) => {
    pending += chunk.toString('utf8')
    if (pending.length > limit) throw new FsError('EIO', 'the answer is too large', '')
    let nl = pending.indexOf('\n')
    while (nl >= 0) {
      onLine(pending.slice(0, nl))
      pending = pending.slice(nl + 1)
      nl = pending.indexOf('\n')
    }
  }
}

/** Turns a helper answer line into its object, or throws the {@link FsError} it carries. */
export function parseAnswer(line: string | undefined, stderr: string, path: string) {
  let answer: Record<string, unknown> | undefined
  try {
    answer = line ? (JSON.parse(line) as Record<string, unknown>) : undefined
  } catch {
    answer = undefined
  }
  if (!answer) {
    const why = stderr.trim().split('\n').slice(-3).join(' ') || 'no answer'
    throw new FsError('EIO', `filesystem helper failed: ${why}`, path)
  }
  if (typeof answer.error === 'string' && typeof answer.code === 'string')
    throw new FsError(
      answer.code,
      answer.error,
      typeof answer.path === 'string' ? answer.path : path,
    )
  return answer
}

/**
 * Waits for a helper that prints one JSON answer (list, delete, rename, copy, chmod, chown, and
 * the end of write). `onLine` sees the lines before the answer (write's acks).
 */
export function helperAnswer(
  proc: SandboxProcess,
  path: string,
  onLine?: (obj: Record<string, unknown>) => void,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let last: string | undefined
    let stderr = ''
    const read = lineReader((line) => {
      if (last !== undefined && onLine) onLine(JSON.parse(last) as Record<string, unknown>)
      last = line
    })
    proc.on('stdout', (d: Buffer) => {
      try {
        read(d)
      } catch (err) {
        proc.signal(SIGKILL)
        reject(err)
      }
    })
    proc.on('stderr', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8')
    })
    proc.once('exit', () => {
      try {
        resolve(parseAnswer(last, stderr, path))
      } catch (err) {
        reject(err)
      }
    })
  })
}

/**
 * Streams a request body into a `write` helper's stdin with at most {@link WRITE_WINDOW_BYTES}
 * unacknowledged, and resolves with its answer. A client that goes away kills the helper.
 */
export function pipeWrite(
  proc: SandboxProcess,
  body: Readable,
  path: string,
): Promise<Record<string, unknown>> {
  let sent = 0
  let acked = 0
  const answer = helperAnswer(proc, path, (obj) => {
    if (typeof obj.ack === 'number') acked = obj.ack
    if (body.isPaused() && sent - acked < WRITE_WINDOW_BYTES / 2) body.resume()
  })
  const onData = (d: Buffer) => {
    sent += d.length
    proc.write(d)
    if (sent - acked >= WRITE_WINDOW_BYTES) body.pause()
  }
  const onEnd = () => proc.endStdin()
  // A body that closes without its end (the client went away) leaves a partial file.
  const onAbort = () => {
    if (!body.readableEnded) proc.signal(SIGKILL)
  }
  body.on('data', onData)
  body.once('end', onEnd)
  body.once('close', onAbort)
  body.once('error', onAbort)
  return answer.finally(() => {
    body.off('data', onData)
    body.off('end', onEnd)
    body.off('close', onAbort)
    body.off('error', onAbort)
  })
}

/** What a `read` helper announces before the bytes: the file size and the range (end exclusive). */
export interface ReadHeader {
  size: number
  start: number
  end: number
}

/**
 * The output of a `read` helper: {@link header} resolves with the announcement (or rejects with
 * the helper's error); {@link pipeTo} then copies exactly `end - start` bytes into a writable,
 * granting the helper one more chunk each time a chunk was flushed, so at most a few MiB are in
 * memory whatever the file size.
 */
export class HelperRead {
  readonly header: Promise<ReadHeader>
  readonly #proc: SandboxProcess
  #held: Buffer[] = []
  #sink: Writable | undefined
  #received = 0
  #flushed = 0
  #credited = 0
  #exit: Promise<number>

  constructor(proc: SandboxProcess, path: string) {
    this.#proc = proc
    this.#exit = new Promise((resolve) => proc.once('exit', (code: number) => resolve(code)))
    let stderr = ''
    proc.on('stderr', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8')
    })
    this.header = new Promise((resolve, reject) => {
      let head = Buffer.alloc(0)
      const onHead = (d: Buffer) => {
        head = Buffer.concat([head, d])
        const nl = head.indexOf(10)
        if (nl < 0 && head.length < 65536) return
        proc.off('stdout', onHead)
        proc.off('exit', onEarlyExit)
        proc.on('stdout', (data: Buffer) => this.#data(data))
        try {
          resolve(parseAnswer(head.subarray(0, nl).toString('utf8'), stderr, path) as never)
        } catch (err) {
          reject(err)
        }
        if (nl + 1 < head.length) this.#data(head.subarray(nl + 1))
      }
      const onEarlyExit = () => {
        try {
          parseAnswer(head.toString('utf8').trim(), stderr, path)
          reject(new FsError('EIO', 'filesystem helper sent no header', path))
        } catch (err) {
          reject(err)
        }
      }
      proc.on('stdout', onHead)
      proc.once('exit', onEarlyExit)
    })
  }

  /** Copies the announced bytes into `sink`; rejects if the helper failed midway. */
  async pipeTo(sink: Writable): Promise<void> {
    const { start, end } = await this.header
    this.#sink = sink
    const close = () => this.abort()
    sink.once('close', close)
    for (const d of this.#held.splice(0)) this.#forward(d)
    const code = await this.#exit
    sink.off('close', close)
    if (code !== 0 || this.#received !== end - start)
      throw new FsError('EIO', `read ended after ${this.#received} of ${end - start} bytes`, '')
  }

  /** Stops the helper (the client went away). */
  abort(): void {
    this.#proc.signal(SIGKILL)
  }

  #data(d: Buffer): void {
    if (this.#sink) this.#forward(d)
    else this.#held.push(d)
  }

  #forward(d: Buffer): void {
    this.#received += d.length
    this.#sink?.write(d, (err) => {
      if (err) return
      this.#flushed += d.length
      while (this.#flushed - this.#credited >= CHUNK_BYTES) {
        this.#credited += CHUNK_BYTES
        this.#proc.write(Buffer.from('c'))
      }
    })
  }
}
