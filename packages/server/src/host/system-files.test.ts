import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { Sandbox, SpawnOptions } from '@sprites/runtime'
import type { SpriteRecord } from '@sprites/store'
import { noopLogger } from '../logger.ts'
import { createSystemFiles, diskVersion } from './system-files.ts'

function tempRoot(t: { after(fn: () => void): void }, version?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'sprites-sysfiles-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  if (version !== undefined) {
    mkdirSync(join(root, '.sprite'))
    writeFileSync(join(root, '.sprite', 'version.txt'), `${version}\n`)
  }
  return root
}

/** A sandbox whose root helper records its stdin and exits with `code`. */
function recordingSandbox(code = 0) {
  const runs: { argv: string[]; stdin: string }[] = []
  const sandbox = {
    async spawn(o: SpawnOptions) {
      const p = new EventEmitter() as EventEmitter & Record<string, unknown>
      const run = { argv: o.argv, stdin: '' }
      runs.push(run)
      p.pid = 1
      p.write = (b: Buffer | string) => {
        run.stdin += b.toString()
      }
      p.endStdin = () => setImmediate(() => p.emit('exit', code, null))
      p.kill = () => undefined
      p.resize = () => undefined
      return p
    },
  } as unknown as Sandbox
  return { sandbox, runs }
}

const FILES = [
  { path: '.sprite', mode: 0o755 },
  { path: '.sprite/llm.txt', mode: 0o644, content: 'guide ✓\n' },
  { path: '.sprite/version.txt', mode: 0o644, content: 'img-2\n' },
  { path: 'etc/profile.d/sprite.sh', mode: 0o644, content: 'export X=1\n' },
]
const sprite = (version: string) => ({ id: 'sp1', version }) as SpriteRecord

describe('system files of upgraded sprites (M7)', () => {
  test('rewrites them only for a sprite upgraded to the installed image whose disk is older', async (t) => {
    const files = createSystemFiles({ files: FILES, log: noopLogger })
    assert.equal(files.version, 'img-2')
    const { sandbox, runs } = recordingSandbox()
    // Not upgraded: its record still names the old image, so its files stay.
    assert.equal(await files.refresh(sprite('img-1'), tempRoot(t, 'img-1'), sandbox), false)
    // Upgraded and already current.
    assert.equal(await files.refresh(sprite('img-2'), tempRoot(t, 'img-2'), sandbox), false)
    assert.equal(runs.length, 0)
    // Upgraded, disk older: one root helper gets every entry, version.txt last.
    assert.equal(await files.refresh(sprite('img-2'), tempRoot(t, 'img-1'), sandbox), true)
    assert.equal(runs.length, 1)
    const lines = (runs[0]?.stdin ?? '').trimEnd().split('\n')
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(0, 3).join(' ')),
      [
        'd 755 .sprite',
        'f 644 .sprite/llm.txt',
        'f 644 etc/profile.d/sprite.sh',
        'f 644 .sprite/version.txt',
      ],
    )
    assert.equal(Buffer.from(lines[1]?.split(' ')[3] ?? '', 'base64').toString(), 'guide ✓\n')
  })

  test('a failing helper is an error (the host logs it and boots on)', async (t) => {
    const files = createSystemFiles({ files: FILES, log: noopLogger })
    const { sandbox } = recordingSandbox(1)
    await assert.rejects(files.refresh(sprite('img-2'), tempRoot(t, 'old'), sandbox), /exit 1/)
  })

  test('files without version.txt are refused', () => {
    assert.throws(
      () => createSystemFiles({ files: FILES.slice(0, 2), log: noopLogger }),
      /version\.txt/,
    )
  })

  test('the disk version is read without following links the sprite planted', async (t) => {
    assert.equal(await diskVersion(tempRoot(t, 'img-1')), 'img-1')
    assert.equal(await diskVersion(tempRoot(t)), undefined)
    const outside = tempRoot(t, 'host-secret')
    const linkedDir = tempRoot(t)
    symlinkSync(join(outside, '.sprite'), join(linkedDir, '.sprite'))
    assert.equal(await diskVersion(linkedDir), undefined)
    const linkedFile = tempRoot(t)
    mkdirSync(join(linkedFile, '.sprite'))
    symlinkSync(join(outside, '.sprite', 'version.txt'), join(linkedFile, '.sprite', 'version.txt'))
    assert.equal(await diskVersion(linkedFile), undefined)
  })
})
