import type { CLIInput } from './io.ts'

/** Reads a stream to its end. */
export async function readAll(input: CLIInput): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of input as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}
