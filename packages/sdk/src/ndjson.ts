import { parseJSONObject } from './api-error.ts'
/**
 * Reads newline-delimited JSON objects from a response body (§1.4). Blank lines and lines that
 * are not JSON objects are skipped; a final line without `\n` is still read.
 */
export async function* readNDJSON(
  body: ReadableStream<Uint8Array> | null,
): AsyncGenerator<Record<string, unknown>> {
  if (!body) return
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true })
      const lines = buffer.split('\n')
      buffer = done ? '' : (lines.pop() ?? '')
      for (const line of lines) {
        const obj = parseLine(line)
        if (obj) yield obj
      }
      if (done) return
    }
  } finally {
    reader.cancel().catch(() => {})
  }
}

function parseLine(line: string): Record<string, unknown> | null {
  const text = line.trim()
  return text ? parseJSONObject(text) : null
}
