export type * from './volume-driver.ts'
