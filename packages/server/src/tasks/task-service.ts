import {
  errors,
  parseDuration,
  SERVICE_NAME_RE,
  SERVICE_NAME_RULE,
  SpritesError,
} from '@sprites/protocol'
import type { ActivityReporter } from '../lifecycle/activity.ts'

/** Longest expiry a create or refresh may ask for (§11.1). */
export const MAX_TASK_EXPIRY_MS = 60 * 60 * 1000

/** Most live tasks one sprite may hold (they live in spritesd's memory). */
export const MAX_TASKS = 256

/** A task on the wire (§11.1). */
export interface TaskWire {
  name: string
  started_at: string
  expires_at: string
}

interface Task {
  name: string
  startedAt: Date
  expiresAt: Date
  timer: NodeJS.Timeout
}

export interface TaskServiceOptions {
  activity: ActivityReporter
  /** @default Date.now */
  now?: () => number
}

/**
 * Keep-awake tasks of every sprite (§11.1): while a sprite has a live task it holds one
 * activity hold; a task vanishes when it expires or is deleted. Tasks live in memory: a sprite
 * that goes cold (server restart) has none.
 */
export class TaskService {
  readonly #o: TaskServiceOptions
  readonly #now: () => number
  readonly #tasks = new Map<string, Map<string, Task>>()
  readonly #releases = new Map<string, () => void>()

  constructor(o: TaskServiceOptions) {
    this.#o = o
    this.#now = o.now ?? Date.now
  }

  list(spriteID: string): TaskWire[] {
    return [...(this.#tasks.get(spriteID)?.values() ?? [])].map(toWire)
  }

  /** @throws SpritesError task_not_found */
  get(spriteID: string, name: string): TaskWire {
    const task = this.#tasks.get(spriteID)?.get(name)
    if (!task) throw notFound(name)
    return toWire(task)
  }

  /** POST: a new task. @throws SpritesError task_already_exists, invalid_argument */
  create(spriteID: string, name: unknown, expire: unknown): TaskWire {
    const taskName = checkName(name)
    const ms = parseExpire(expire)
    if (this.#tasks.get(spriteID)?.has(taskName)) {
      throw new SpritesError('task_already_exists', `task ${taskName} already exists`)
    }
    return this.#put(spriteID, taskName, ms)
  }

  /** PUT: creates the task or moves its expiry. @throws SpritesError invalid_argument */
  refresh(spriteID: string, name: unknown, expire: unknown): TaskWire {
    return this.#put(spriteID, checkName(name), parseExpire(expire))
  }

  /** @throws SpritesError task_not_found */
  delete(spriteID: string, name: string): void {
    const task = this.#tasks.get(spriteID)?.get(name)
    if (!task) throw notFound(name)
    this.#remove(spriteID, task)
  }

  /** Drops every task of a sprite (it went cold or was deleted). */
  clear(spriteID: string): void {
    for (const task of [...(this.#tasks.get(spriteID)?.values() ?? [])])
      this.#remove(spriteID, task)
  }

  #put(spriteID: string, name: string, ms: number): TaskWire {
    let tasks = this.#tasks.get(spriteID)
    if (!tasks) {
      tasks = new Map()
      this.#tasks.set(spriteID, tasks)
    }
    const old = tasks.get(name)
    if (!old && tasks.size >= MAX_TASKS) {
      throw new SpritesError(
        'conflict',
        `a sprite has at most ${MAX_TASKS} tasks; delete one first`,
      )
    }
    if (old) clearTimeout(old.timer)
    const now = this.#now()
    const task: Task = {
      name,
      startedAt: old?.startedAt ?? new Date(now),
      expiresAt: new Date(now + ms),
      timer: setTimeout(() => this.#remove(spriteID, task), ms),
    }
    task.timer.unref()
    tasks.set(name, task)
    if (!this.#releases.has(spriteID)) this.#releases.set(spriteID, this.#o.activity.hold(spriteID))
    this.#o.activity.touch(spriteID)
    return toWire(task)
  }

  #remove(spriteID: string, task: Task): void {
    const tasks = this.#tasks.get(spriteID)
    if (tasks?.get(task.name) !== task) return
    clearTimeout(task.timer)
    tasks.delete(task.name)
    if (tasks.size > 0) return
    this.#tasks.delete(spriteID)
    this.#releases.get(spriteID)?.()
    this.#releases.delete(spriteID)
  }
}

function toWire(t: Task): TaskWire {
  return {
    name: t.name,
    started_at: t.startedAt.toISOString(),
    expires_at: t.expiresAt.toISOString(),
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !SERVICE_NAME_RE.test(name)) {
    throw errors.invalid(`invalid task name ${JSON.stringify(name)}: task ${SERVICE_NAME_RULE}`)
  }
  return name
}

function parseExpire(expire: unknown): number {
  if (typeof expire !== 'number' && typeof expire !== 'string') {
    throw errors.invalid('expire is required: integer seconds or a duration such as 5m')
  }
  const ms = parseDuration(expire, 'expire')
  if (ms <= 0) throw errors.invalid('expire must be positive')
  if (ms > MAX_TASK_EXPIRY_MS) throw errors.invalid('expire may be at most 1h')
  return ms
}

function notFound(name: string): SpritesError {
  return new SpritesError('task_not_found', `task ${name} not found`)
}
