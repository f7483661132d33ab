import type { ExecFn } from './exec.ts'

/** Attaches `file` to a free loop device with direct I/O; returns the device path. */
export async function attachLoop(exec: ExecFn, file: string): Promise<string> {
  const { stdout } = await exec('losetup', ['-f', '--show', '--direct-io=on', file])
  return stdout.trim()
}

/** Parses `losetup -j` output (`/dev/loop3: [2049]:1234 (/path)`) into device paths. */
export function parseLosetupList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => /^(\/dev\/loop\d+):/.exec(line)?.[1])
    .filter((dev): dev is string => dev !== undefined)
}

/** Loop devices backed by `file`, found by the kernel's record (works after a restart). */
export async function loopsOf(exec: ExecFn, file: string): Promise<string[]> {
  return parseLosetupList((await exec('losetup', ['-j', file])).stdout)
}

/** Detaches a loop device; one that is already gone counts as detached. */
export async function detachLoop(exec: ExecFn, device: string): Promise<void> {
  await exec('losetup', ['-d', device]).catch((err: Error & { stderr?: string }) => {
    if (!/No such device|No such file/.test(err.stderr ?? err.message)) throw err
  })
}
