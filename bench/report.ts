import type { RowSpec } from './probe.ts'
import { type Summary, summarize } from './stats.ts'

export interface RowResult extends RowSpec, Summary {
  samplesMs: number[]
  /** Whether the median meets `targetP50Ms`; absent without a target. */
  meetsTarget?: boolean
}

export interface Ratio {
  label: string
  numerator: string
  denominator: string[]
  value: number
}

export interface Report {
  date: string
  host: { cpus: number; kernel: string; node: string }
  iterations: number
  warmupIterations: number
  notes: string[]
  rows: RowResult[]
  ratios: Ratio[]
}

/** p50 ratios that put the API latencies next to the building blocks they are made of. */
const RATIOS: Omit<Ratio, 'value'>[] = [
  {
    label: 'create→first output ÷ crun run',
    numerator: 'create_to_first_output',
    denominator: ['crun_run_true'],
  },
  {
    label: 'create→first output ÷ (crun + reflink cp + netns setup)',
    numerator: 'create_to_first_output',
    denominator: ['crun_run_true', 'reflink_cp', 'netns_setup'],
  },
  { label: 'exec true WS ÷ spawn', numerator: 'exec_true_ws', denominator: ['spawn_true'] },
  { label: 'exec true HTTP ÷ spawn', numerator: 'exec_true_http', denominator: ['spawn_true'] },
  { label: 'crun run ÷ spawn', numerator: 'crun_run_true', denominator: ['spawn_true'] },
  { label: 'reflink cp ÷ FICLONE', numerator: 'reflink_cp', denominator: ['reflink_ficlone'] },
]

export function buildRows(specs: RowSpec[], samples: Map<string, number[]>): RowResult[] {
  return specs.map((spec) => {
    const samplesMs = samples.get(spec.key) ?? []
    const s = summarize(samplesMs)
    const row: RowResult = { ...spec, ...s, samplesMs }
    if (spec.targetP50Ms !== undefined) row.meetsTarget = s.p50 <= spec.targetP50Ms
    return row
  })
}

export function buildRatios(rows: RowResult[]): Ratio[] {
  const p50 = new Map(rows.map((r) => [r.key, r.p50]))
  return RATIOS.flatMap((r) => {
    const num = p50.get(r.numerator)
    const den = r.denominator.reduce((sum, k) => sum + (p50.get(k) ?? Number.NaN), 0)
    if (num === undefined || !Number.isFinite(den) || den <= 0) return []
    return [{ ...r, value: num / den }]
  })
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—').padStart(8)

function targetCell(row: RowResult): string {
  if (row.targetP50Ms === undefined) return ''
  return `≤ ${row.targetP50Ms} ${row.meetsTarget ? '✓' : '✗'}`
}

/** The one table the benchmark prints. */
export function formatReport(r: Report): string {
  const width = Math.max(...r.rows.map((row) => row.label.length), 30)
  const ratioWidth = Math.max(...r.ratios.map((x) => x.label.length), width)
  const head = `${'row'.padEnd(width)}  ${'p50 ms'.padStart(8)}  ${'p90 ms'.padStart(8)}  ${'min ms'.padStart(8)}  target p50`
  const lines = [
    `sprites bench ${r.date}  N=${r.iterations} (+${r.warmupIterations} warm-up)  ${r.host.cpus} CPUs, Linux ${r.host.kernel}, Node ${r.host.node}`,
    ...r.notes.map((n) => `  ${n}`),
    '',
    head,
    '-'.repeat(head.length + 2),
    ...r.rows.map(
      (row) =>
        `${row.label.padEnd(width)}  ${ms(row.p50)}  ${ms(row.p90)}  ${ms(row.min)}  ${targetCell(row)}`,
    ),
    '',
    'ratios of medians',
    ...r.ratios.map((x) => `  ${x.label.padEnd(ratioWidth)}  ${x.value.toFixed(1).padStart(6)}×`),
  ]
  return `${lines.join('\n')}\n`
}
