// A process in a sprite, even with sudo, cannot tamper with the agent the host controls it through.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sdkSprite } from './harness.ts'

const isRoot = process.getuid?.() === 0

describe('the in-sprite agent is out of reach', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  const f = sdkSprite('tamper')

  async function sh(script: string): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    try {
      return await f.sprite.execFile('sh', ['-c', script])
    } catch (err) {
      const e = err as {
        result?: { stdout: string; stderr: string; exitCode: number }
        exitCode?: number
      }
      if (e.result) return e.result
      throw err
    }
  }

  test('PID 1 is the agent and survives SIGKILL from root inside', async () => {
    const before = await sh('cat /proc/1/comm')
    assert.equal(before.stdout.trim(), 'sprite-agent')
    await sh('sudo kill -9 1; sudo kill -TERM 1; true')
    const after = await sh('cat /proc/1/comm; echo alive')
    assert.equal(after.stdout, 'sprite-agent\nalive\n')
  })

  test("root inside cannot read the agent's fds, memory or environment, nor ptrace it", async () => {
    for (const probe of [
      'ls -l /proc/1/fd',
      'cat /proc/1/fd/3',
      'cat /proc/1/environ',
      'head -c1 /proc/1/mem',
    ]) {
      const r = await sh(`sudo ${probe} >/dev/null 2>&1; echo $?`)
      assert.notEqual(r.stdout.trim(), '0', `${probe} must fail`)
    }
    const py = [
      'import ctypes, sys',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'r = libc.ptrace(16, 1, None, None)',
      'print(r, ctypes.get_errno())',
    ].join('; ')
    const r = await sh(`sudo python3 -c '${py}'`)
    const [ret, errno] = r.stdout.trim().split(' ').map(Number)
    assert.equal(ret, -1, 'PTRACE_ATTACH to the agent must fail')
    assert.equal(errno, 1, 'EPERM')
  })

  test('root inside holds no capability that could escape (bounding set)', async () => {
    const r = await sh("sudo grep -E '^Cap(Eff|Bnd)' /proc/self/status")
    for (const line of r.stdout.trim().split('\n')) {
      const mask = BigInt(`0x${line.split(/\s+/)[1]}`)
      const CAP_SYS_ADMIN = 21n
      const CAP_SYS_PTRACE = 19n
      const CAP_SYS_MODULE = 16n
      const CAP_NET_ADMIN = 12n
      for (const cap of [CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_NET_ADMIN]) {
        assert.equal((mask >> cap) & 1n, 0n, `${line} must not hold capability ${cap}`)
      }
    }
  })
})
