import type { ServerResponse } from 'node:http'
import { sendJSON } from '../http/respond.ts'

/** HTTP status of each errno name the filesystem API reports (sprites-api.md §5); others are 500. */
export const FS_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  ENOENT: 404,
  EACCES: 403,
  EPERM: 403,
  EROFS: 403,
  EEXIST: 409,
  ENOTEMPTY: 409,
  ENOTDIR: 400,
  EISDIR: 400,
  EINVAL: 400,
  ENAMETOOLONG: 400,
  ELOOP: 400,
  ERANGE: 416,
  ENOSPC: 507,
  EDQUOT: 507,
  EIO: 500,
})

/** Wire body of a filesystem error: human text in `error`, the errno name in `code`. */
export interface FsErrorBody {
  error: string
  code: string
  path: string
}

/** A failed filesystem operation, answered as {@link FsErrorBody} with its errno's status. */
export class FsError extends Error {
  readonly code: string
  readonly path: string
  constructor(code: string, message: string, path: string) {
    super(message)
    this.name = 'FsError'
    this.code = code
    this.path = path
  }

  get status(): number {
    return FS_ERROR_STATUS[this.code] ?? 500
  }

  toBody(): FsErrorBody {
    return { error: this.message, code: this.code, path: this.path }
  }
}

/** True for an {@link FsError} (branching on `code`, not on `instanceof` across copies). */
export function isFsError(err: unknown): err is FsError {
  return err instanceof Error && err.name === 'FsError' && typeof (err as FsError).code === 'string'
}

/** Shorthand for a bad parameter: 400 `EINVAL`. */
export function fsInvalid(message: string, path = ''): FsError {
  return new FsError('EINVAL', message, path)
}

/**
 * Answers an {@link FsError}; a request whose body was not read gets `Connection: close`.
 * @returns false when the error is not a filesystem error (the caller rethrows it).
 */
export function sendFsError(res: ServerResponse, err: unknown): boolean {
  if (!isFsError(err)) return false
  if (res.headersSent) {
    res.destroy()
    return true
  }
  if (!res.req.complete) res.setHeader('Connection', 'close')
  sendJSON(res, err.status, err.toBody())
  return true
}
