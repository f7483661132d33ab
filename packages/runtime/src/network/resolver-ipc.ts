/**
 * Messages between the server and its resolver process (resolver-main.ts), over the Node IPC
 * channel. Every request carries an `id` that its `done` answer repeats.
 */
import type { SpriteEgress } from './egress-resolver.ts'

/** What the resolver process is started with (its one argument, JSON). */
export interface ResolverConfig {
  /** nftables table of the sprites' rules. */
  table: string
  /** Upstream resolvers (IP addresses). */
  upstreams: string[]
  /** The command line of `nft -i` as the resolver runs it. */
  nftCommand: string[]
}

/** Server → resolver. */
export type ResolverRequest =
  | { type: 'sprite'; id: number; egress: SpriteEgress; restore: boolean }
  | { type: 'forget'; id: number; address: string; gateway: string }

/** Resolver → server. */
export type ResolverEvent =
  | { type: 'ready' }
  | { type: 'done'; id: number; error?: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; context: object }
