import { readFile } from 'node:fs/promises'

/** One line of `/proc/<pid>/mountinfo` (proc(5)), with octal escapes decoded. */
export interface MountEntry {
  readonly id: number
  readonly parentID: number
  /** `major:minor` of the filesystem's device. */
  readonly device: string
  /** Path inside the filesystem that is the root of this mount. */
  readonly root: string
  readonly mountPoint: string
  readonly fsType: string
  readonly source: string
  readonly options: string
}

/** Decodes the `\ooo` escapes the kernel uses for spaces, tabs, newlines and backslashes. */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  )
}

function parseLine(line: string): MountEntry | undefined {
  const fields = line.split(' ')
  const dash = fields.indexOf('-', 6)
  if (dash < 0 || fields.length < dash + 3) return undefined
  return {
    id: Number(fields[0]),
    parentID: Number(fields[1]),
    device: fields[2] ?? '',
    root: unescapeMountPath(fields[3] ?? ''),
    mountPoint: unescapeMountPath(fields[4] ?? ''),
    options: fields[5] ?? '',
    fsType: fields[dash + 1] ?? '',
    source: unescapeMountPath(fields[dash + 2] ?? ''),
  }
}

/** Parses mountinfo text; malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .map(parseLine)
    .filter((e): e is MountEntry => e !== undefined)
}

/** The calling process's current mounts. */
export async function readMountInfo(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'))
}

/** Whether `path` equals `dir` or lies below it (plain string paths, no resolving). */
export function isPathUnder(path: string, dir: string): boolean {
  const base = dir.endsWith('/') ? dir.slice(0, -1) : dir
  return path === base || path.startsWith(`${base}/`)
}

/** Mounts at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(entries: readonly MountEntry[], dir: string): MountEntry[] {
  return entries
    .filter((e) => isPathUnder(e.mountPoint, dir))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length || b.id - a.id)
}
