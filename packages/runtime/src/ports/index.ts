export {
  innerPid,
  type ListeningPort,
  listListeningPorts,
  readSockets,
  sandboxPids,
  socketOwners,
} from './listening-ports.ts'
export { formatIPv6, type ListeningSocket, parseProcNetTCP } from './proc-net-tcp.ts'
export { type PortWatcher, type WatchPortsOptions, watchPorts } from './watch-ports.ts'
