import { existsSync } from 'node:fs'
import type { DomainRule } from '@sprites/protocol'
import { type Logger, NOOP_LOGGER } from '../host/logger.ts'
import { type RunCommand, runChecked, runCommand } from '../host/run-command.ts'
import type { NetworkDriver } from '../runtime-driver.ts'
import { EgressController } from './egress-controller.ts'
import {
  routerLinkBatch,
  routerRuleset,
  type SlotAddresses,
  slotAddresses,
  spriteLinkBatch,
} from './netns-plan.ts'

/**
 * `router`: the host ends of the sprites' veths live in a namespace this driver creates, which
 * forwards and masquerades; the root namespace's routes, firewall and `ip_forward` are never
 * touched (development and CI machines). `host`: the host ends live in the root namespace,
 * which then gets `ip_forward=1` and the nftables table (production).
 */
export type NetworkMode = 'router' | 'host'

export interface NetnsNetworkOptions {
  /** @default 'router' */
  mode?: NetworkMode
  /** Name of the router netns (router mode). @default 'sprites-rt' */
  routerNetns?: string
  /** Pool of sprite links, one /30 per slot. @default '10.201.0.0/16' */
  subnet?: string
  /** Sprite netns names are `<netnsPrefix><slot>`. @default 'sprite-' */
  netnsPrefix?: string
  /** Router ends of the veths are `<vethPrefix><slot>`. @default 'vs' */
  vethPrefix?: string
  /** Upstream interface on the router side; without it, every non-sprite interface is. */
  uplink?: string
  /** nftables table (family inet) holding the sprite rules. @default 'sprites' */
  nftTable?: string
  /** Upstream resolvers (IP addresses) of the sprites' DNS resolver. @default [] */
  dnsUpstreams?: readonly string[]
  /**
   * Run the sprites' DNS resolver (a child process in the router netns, started with the
   * router). Without it sprites get no DNS, and enforced egress policies deny everything.
   * @default true
   */
  resolver?: boolean
  log?: Logger
  /** @default runCommand */
  exec?: RunCommand
}

/** A NetworkDriver that also owns the router namespace it creates. */
export interface NetnsNetworkDriver extends NetworkDriver {
  readonly mode: NetworkMode
  /** The netns name of the router (router mode), or undefined (host mode). */
  readonly routerNetns: string | undefined
  /** Name of the sprite netns of a slot. */
  netnsName(slot: number): string
  /** The gateway of a slot: also its DNS resolver. */
  gateway(slot: number): string
  /**
   * Applies a sprite's expanded egress rules to its slot (empty: unrestricted) once its link is
   * up; resolves once DNS and nftables enforce them. Fails closed: when the rules cannot be
   * applied, the sprite denies everything (or, as a last resort, its link goes down) and
   * `EgressFailedClosedError` is thrown; any other error means not even that worked.
   */
  setEgress(slot: number, rules: readonly DomainRule[]): Promise<void>
  /** Host pid of the DNS resolver process, while it runs. */
  resolverPid(): number | undefined
  /** Stops the resolver for good; the router and the sprites' links stay. */
  close(): Promise<void>
  /** Stops the resolver and removes the router netns (router mode) or the nftables table (host mode). */
  destroyRouter(): Promise<void>
}

const NETNS_DIR = '/run/netns'

/**
 * Gives each sprite slot a netns `<netnsPrefix><slot>` with `eth0` (a /30 from `subnet`),
 * `lo` up and a default route via the router end of its veth. Setup costs three `ip` runs.
 *
 * @example
 * const net = createNetnsNetworkDriver({ routerNetns: 'sprites-rt' })
 * const { netnsPath, address } = await net.setup(3)
 */
export function createNetnsNetworkDriver(options: NetnsNetworkOptions = {}): NetnsNetworkDriver {
  const o = {
    mode: options.mode ?? 'router',
    routerNetns: options.routerNetns ?? 'sprites-rt',
    subnet: options.subnet ?? '10.201.0.0/16',
    netnsPrefix: options.netnsPrefix ?? 'sprite-',
    vethPrefix: options.vethPrefix ?? 'vs',
    nftTable: options.nftTable ?? 'sprites',
    uplink: options.uplink,
    dnsUpstreams: options.dnsUpstreams ?? [],
    resolver: options.resolver ?? true,
    log: (options.log ?? NOOP_LOGGER).child({ driver: 'netns' }),
    exec: options.exec ?? runCommand,
  }
  checkName(o.routerNetns)
  checkName(o.netnsPrefix)
  slotAddresses(o.subnet, 0)
  const net = new NetnsNetwork(o)
  return {
    mode: o.mode,
    routerNetns: o.mode === 'router' ? o.routerNetns : undefined,
    netnsName: (slot) => net.netnsName(slot),
    setup: (slot, opts) => net.setup(slot, opts),
    teardown: (slot) => net.teardown(slot),
    gateway: (slot) => slotAddresses(o.subnet, slot).gateway,
    setEgress: (slot, rules) => net.egress.set(slot, rules),
    resolverPid: () => net.egress.resolverPid,
    close: () => net.egress.close(),
    destroyRouter: () => net.destroyRouter(),
  }
}

interface ResolvedOptions {
  mode: NetworkMode
  routerNetns: string
  subnet: string
  netnsPrefix: string
  vethPrefix: string
  nftTable: string
  uplink: string | undefined
  dnsUpstreams: readonly string[]
  resolver: boolean
  log: Logger
  exec: RunCommand
}

class NetnsNetwork {
  #o: ResolvedOptions
  #router: Promise<void> | undefined
  readonly egress: EgressController

  constructor(o: ResolvedOptions) {
    this.#o = o
    this.egress = new EgressController({
      table: o.nftTable,
      subnet: o.subnet,
      prefix: o.mode === 'router' ? ['ip', 'netns', 'exec', o.routerNetns] : [],
      upstreams: o.dnsUpstreams,
      resolver: o.resolver,
      exec: o.exec,
      log: o.log,
      cutLink: (slot) =>
        runChecked(o.exec, 'ip', [
          ...this.#routerIP(),
          'link',
          'set',
          this.#veth(slot),
          'down',
        ]).then(() => undefined),
    })
  }

  netnsName(slot: number): string {
    return `${this.#o.netnsPrefix}${slot}`
  }

  async setup(
    slot: number,
    opts: { pid?: number } = {},
  ): Promise<{ netnsPath: string; address: string; gateway: string }> {
    const addrs = slotAddresses(this.#o.subnet, slot)
    const name = this.netnsName(slot)
    const veth = `${this.#o.vethPrefix}${slot}`
    await this.#ensureRouter()
    if (opts.pid !== undefined || !(await this.#isComplete(name, veth))) {
      await this.teardown(slot)
      const started = performance.now()
      await this.#createLink(name, veth, addrs, opts.pid)
      this.#o.log.debug({ slot, ms: performance.now() - started }, 'sprite netns created')
    }
    return { netnsPath: `${NETNS_DIR}/${name}`, address: addrs.address, gateway: addrs.gateway }
  }

  /**
   * Removes the slot's egress rules, the veth (both ends, even while a process still holds the
   * netns), then the netns.
   */
  async teardown(slot: number): Promise<void> {
    const name = this.netnsName(slot)
    await this.egress.release(slot)
    await this.#o.exec('ip', [...this.#routerIP(), 'link', 'del', this.#veth(slot)])
    if (existsSync(`${NETNS_DIR}/${name}`))
      await runChecked(this.#o.exec, 'ip', ['netns', 'del', name])
  }

  async destroyRouter(): Promise<void> {
    this.#router = undefined
    await this.egress.stop()
    if (this.#o.mode === 'host') {
      await this.#o.exec('nft', ['delete', 'table', 'inet', this.#o.nftTable])
      return
    }
    if (existsSync(`${NETNS_DIR}/${this.#o.routerNetns}`)) {
      await runChecked(this.#o.exec, 'ip', ['netns', 'del', this.#o.routerNetns])
    }
  }

  /**
   * With `pid`, names the netns that process already has (`ip netns attach`): a sandbox that
   * created its netns inside its own user namespace can mount a sysfs of its own.
   */
  async #createLink(name: string, veth: string, addrs: SlotAddresses, pid?: number): Promise<void> {
    const { exec } = this.#o
    if (pid === undefined) await runChecked(exec, 'ip', ['netns', 'add', name])
    else await runChecked(exec, 'ip', ['netns', 'attach', name, String(pid)])
    await runChecked(
      exec,
      'ip',
      [...this.#routerIP(), '-batch', '-'],
      routerLinkBatch(veth, name, addrs),
    )
    await runChecked(exec, 'ip', ['-n', name, '-batch', '-'], spriteLinkBatch(addrs))
  }

  /** A slot is complete when its netns exists and the router still has its veth end. */
  async #isComplete(name: string, veth: string): Promise<boolean> {
    if (!existsSync(`${NETNS_DIR}/${name}`)) return false
    const r = await this.#o.exec('ip', [...this.#routerIP(), 'link', 'show', 'dev', veth])
    return r.code === 0
  }

  #ensureRouter(): Promise<void> {
    const lost = this.#o.mode === 'router' && !existsSync(`${NETNS_DIR}/${this.#o.routerNetns}`)
    if (!this.#router || lost) {
      this.#router = this.#createRouter()
      this.#router.catch(() => {
        this.#router = undefined
      })
    }
    return this.#router
  }

  /** Router mode: the netns, `lo`, forwarding inside it and the ruleset; host mode: the last two. */
  async #createRouter(): Promise<void> {
    const { exec, routerNetns, mode } = this.#o
    const inRouter = mode === 'router' ? ['ip', 'netns', 'exec', routerNetns] : []
    if (mode === 'router') {
      if (!existsSync(`${NETNS_DIR}/${routerNetns}`))
        await runChecked(exec, 'ip', ['netns', 'add', routerNetns])
      await runChecked(exec, 'ip', ['-n', routerNetns, 'link', 'set', 'lo', 'up'])
    }
    const ruleset = routerRuleset({
      table: this.#o.nftTable,
      vethPrefix: this.#o.vethPrefix,
      subnet: this.#o.subnet,
      uplink: this.#o.uplink,
    })
    const [file = 'nft', ...args] = [...inRouter, 'nft', '-f', '-']
    await runChecked(exec, file, args, ruleset)
    const [sysctl = 'sysctl', ...sysctlArgs] = [
      ...inRouter,
      'sysctl',
      '-qw',
      'net.ipv4.ip_forward=1',
    ]
    await runChecked(exec, sysctl, sysctlArgs)
    await this.egress.start()
    this.#o.log.info({ mode, routerNetns }, 'router ready')
  }

  #routerIP(): string[] {
    return this.#o.mode === 'router' ? ['-n', this.#o.routerNetns] : []
  }

  #veth(slot: number): string {
    return `${this.#o.vethPrefix}${slot}`
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/.test(name)) {
    throw new RangeError(`netns name ${JSON.stringify(name)} must be 1-31 of [A-Za-z0-9_.-]`)
  }
}
