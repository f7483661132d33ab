import type { Command } from '../command.ts'
import { login } from './auth/login.ts'
import { logout } from './auth/logout.ts'
import { authSetup } from './auth/setup.ts'
import { checkpointCreate } from './checkpoint/create.ts'
import { checkpointDelete } from './checkpoint/delete.ts'
import { checkpointInfo } from './checkpoint/info.ts'
import { checkpointList } from './checkpoint/list.ts'
import { checkpointRestore } from './checkpoint/restore.ts'
import { api } from './cli/api.ts'
import { completionCommand } from './cli/completion.ts'
import { version } from './cli/version.ts'
import { configUpdate } from './config/update.ts'
import { fileEdit } from './file/edit.ts'
import { filePull } from './file/pull.ts'
import { filePush } from './file/push.ts'
import { orgList } from './org/list.ts'
import { orgLogout } from './org/logout.ts'
import { policyNetwork } from './policy/network.ts'
import { sessionsAttach } from './sessions/attach.ts'
import { sessionsKill } from './sessions/kill.ts'
import { sessionsList } from './sessions/list.ts'
import { consoleCommand } from './sprite/console.ts'
import { create } from './sprite/create.ts'
import { destroy } from './sprite/destroy.ts'
import { exec } from './sprite/exec.ts'
import { info } from './sprite/info.ts'
import { listCommand } from './sprite/list.ts'
import { proxy } from './sprite/proxy.ts'
import { url } from './sprite/url.ts'
import { use } from './sprite/use.ts'

/** Canonical command names (`noun verb` or a top-level verb) → modules, in help order. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  create,
  list: listCommand,
  use,
  info,
  url,
  'url update': configUpdate,
  exec,
  console: consoleCommand,
  proxy,
  destroy,
  'sessions list': sessionsList,
  'sessions attach': sessionsAttach,
  'sessions kill': sessionsKill,
  'checkpoint create': checkpointCreate,
  'checkpoint list': checkpointList,
  'checkpoint info': checkpointInfo,
  'checkpoint delete': checkpointDelete,
  'checkpoint restore': checkpointRestore,
  restore: checkpointRestore,
  'config update': configUpdate,
  'policy network': policyNetwork,
  'file push': filePush,
  'file pull': filePull,
  'file edit': fileEdit,
  api,
  'auth setup': authSetup,
  login,
  'org auth': login,
  'org list': orgList,
  'org logout': orgLogout,
  logout,
  completion: completionCommand(() => COMMANDS),
  version,
}

/** Alternative spellings of a first or a whole command word (§13.1). */
const ALIASES: Readonly<Record<string, string>> = {
  ls: 'list',
  x: 'exec',
  c: 'console',
  attach: 'sessions attach',
  s: 'sessions',
  orgs: 'org',
  organizations: 'org',
  o: 'org',
  'sessions ls': 'sessions list',
  'checkpoint ls': 'checkpoint list',
  'checkpoint rm': 'checkpoint delete',
  checkpoints: 'checkpoint',
}

/** Finds the command named by the leading words; returns its canonical name and word count. */
export function lookupCommand(words: readonly string[]): { name: string; used: number } | null {
  const first = ALIASES[words[0] ?? ''] ?? words[0] ?? ''
  const parts = first.split(' ')
  if (parts.length === 2) return COMMANDS[first] ? { name: first, used: 1 } : null
  if (words.length > 1) {
    const two = `${first} ${words[1]}`
    const name = ALIASES[two] ?? two
    if (COMMANDS[name]) return { name, used: 2 }
  }
  return COMMANDS[first] ? { name: first, used: 1 } : null
}

/** True when `word` starts a known two-word command group (`sessions`, `org`, …). */
export function isGroup(word: string): boolean {
  const w = ALIASES[word] ?? word
  return Object.keys(COMMANDS).some((k) => k.startsWith(`${w} `))
}
