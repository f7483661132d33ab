export type * from './runtime-driver.ts'
