/** One row of the results table. */
export interface RowSpec {
  key: string
  label: string
  /** Target for the median, in milliseconds. */
  targetP50Ms?: number
}

/**
 * Something the benchmark times. `measure()` runs one iteration and returns a duration in
 * milliseconds for each of its rows; anything it creates is undone by `cleanup()`.
 */
export interface Probe {
  rows: RowSpec[]
  measure(iteration: number): Promise<Record<string, number>>
  cleanup(): Promise<void>
}
