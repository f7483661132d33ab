import type { PortProxy } from '@sprites/sdk'
import { type Command, str } from '../../command.ts'
import type { Context } from '../../context.ts'
import { listenForward } from '../../port-forward.ts'
import { usageError } from '../../usage-error.ts'

interface Mapping {
  local: number
  remote: number
}

function parsePort(text: string, spec: string, min: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw usageError(`bad port mapping ${JSON.stringify(spec)}: use <port> or <local:remote>`)
  }
  return n
}

/** `8080` → 8080:8080; `0:8080` → a free local port to 8080. @throws usage error */
export function parseMapping(spec: string): Mapping {
  const parts = spec.split(':')
  if (parts.length === 1) {
    const p = parsePort(spec, spec, 1)
    return { local: p, remote: p }
  }
  if (parts.length !== 2) throw usageError(`bad port mapping ${JSON.stringify(spec)}`)
  return { local: parsePort(parts[0] ?? '', spec, 0), remote: parsePort(parts[1] ?? '', spec, 1) }
}

/** `[host]:port` of `--stdio`; the host defaults to the sprite's `localhost`. @throws usage error */
export function parseStdioTarget(spec: string): { host: string; port: number } {
  const i = spec.lastIndexOf(':')
  const host = i > 0 ? spec.slice(0, i).replace(/^\[(.*)\]$/, '$1') : 'localhost'
  return { host, port: parsePort(i >= 0 ? spec.slice(i + 1) : spec, spec, 1) }
}

/** Resolves on SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve()
    }
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
  })
}

/** Relays stdin/stdout over one connection until the remote side closes. */
async function stdio(ctx: Context, name: string, spec: string): Promise<number> {
  const { host, port } = parseStdioTarget(spec)
  const remote = await ctx.client().openProxy(name, host, port)
  const { stdin, stdout } = ctx.io
  stdin.pipe(remote, { end: false })
  remote.pipe(stdout, { end: false })
  await new Promise<void>((resolve) => {
    remote.once('close', resolve)
    remote.once('end', resolve)
    remote.once('error', resolve)
  })
  stdin.unpipe(remote)
  stdin.pause()
  remote.destroy()
  return 0
}

/** `sprite proxy <port>… | <local:remote>…` and `sprite proxy -W [host:]port` (§9.1). */
export const proxy: Command = {
  usage: '<port>... | <local:remote>... | -W <[host:]port>',
  summary: 'Forward local ports to ports in a sprite (Ctrl+C stops)',
  options: { stdio: { type: 'string', short: 'W' } },
  async run(ctx, { positionals, values }) {
    const name = ctx.spriteName()
    const target = str(values, 'stdio')
    if (target) return stdio(ctx, name, target)
    if (positionals.length === 0) throw usageError('no ports given: sprite proxy <port>...')
    const mappings = positionals.map(parseMapping)
    const open: PortProxy[] = []
    try {
      for (const m of mappings) {
        const p = await listenForward(ctx.client(), name, m.local, m.remote, 'localhost', false)
        open.push(p)
        ctx.err(`Forwarding ${p.localAddr()} -> ${name} port ${m.remote}`)
      }
      await untilSignal()
    } finally {
      for (const p of open) p.close()
    }
    return 0
  },
}
