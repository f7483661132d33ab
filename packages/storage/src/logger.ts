export { type LogFn, type Logger, noopLogger } from '@sprites/protocol'
