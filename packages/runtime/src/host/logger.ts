export type { Logger } from '@sprites/protocol'
export { noopLogger as NOOP_LOGGER } from '@sprites/protocol'
