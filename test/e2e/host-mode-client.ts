// Runs inside the host-mode test's network namespace (under `nsenter --net`), where spritesd
// listens: drives one sprite through the API and prints one JSON object of what it saw.
// Usage: host-mode-client.ts <baseURL> <token> <apiPort>
import { api, type Conn, createSprite, deleteSprite, execWS, sh } from './api-helpers.ts'
import { PROBE_PY } from './egress-probes.ts'
import { OTHER_IP, PRIVATE_IP, RAW_IP } from './egress-upstream.ts'
import { uniqueName } from './harness.ts'

const [baseURL = '', token = '', apiPort = ''] = process.argv.slice(2)
const conn: Conn = { baseURL, token }

async function probe(name: string, ...args: string[]): Promise<Record<string, string>> {
  const r = await execWS(conn, name, ['python3', '-c', PROBE_PY, ...args], { timeoutMs: 60_000 })
  if (r.code !== 0) throw new Error(`probe exited ${r.code}: ${r.stderr}`)
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]),
  )
}

async function main(): Promise<void> {
  const name = uniqueName('hostmode')
  await createSprite(conn, name)
  try {
    const resolv = (await sh(conn, name, 'cat /etc/resolv.conf')).trim()
    const gateway = resolv.replace(/^nameserver\s+/, '')
    const open = await probe(
      name,
      'dns:allowed.test',
      'get:allowed.test',
      `get:${RAW_IP}`,
      `get:${PRIVATE_IP}`,
    )
    // spritesd listens on every address of its namespace, the gateway included.
    const toHost = await execWS(conn, name, [
      'python3',
      '-c',
      `import socket\ntry:\n socket.create_connection(('${gateway}', ${apiPort}), timeout=3); print('connected')\nexcept OSError as e: print('ERR', type(e).__name__)`,
    ])
    const set = await api(conn, 'POST', `/v1/sprites/${name}/policy/network`, {
      body: { rules: [{ domain: 'allowed.test', action: 'allow' }] },
    })
    const enforced = await probe(
      name,
      'dns:other.test',
      'get:allowed.test',
      `get:${OTHER_IP}`,
      `get:${RAW_IP}`,
    )
    process.stdout.write(
      `${JSON.stringify({
        resolv,
        open,
        toHost: toHost.stdout.trim(),
        policyStatus: set.status,
        enforced,
      })}\n`,
    )
  } finally {
    await deleteSprite(conn, name)
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`)
    process.exit(1)
  },
)
