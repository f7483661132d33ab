import { decodeFrame, SpritesError, StreamID } from '@sprites/protocol'
import type { ExecResult } from './types.ts'

/**
 * Reads a `POST /exec` response (§3.12): each transport chunk is one frame, the exit frame last.
 * @throws SpritesError internal when the body ends without an exit frame
 */
export async function readHTTPExec(body: ReadableStream<Uint8Array> | null): Promise<ExecResult> {
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  if (body) {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      const frame = decodeFrame(chunk)
      if (!frame) continue
      if (frame.stream === StreamID.Stdout) stdout.push(Buffer.from(frame.data))
      else if (frame.stream === StreamID.Stderr) stderr.push(Buffer.from(frame.data))
      else if (frame.stream === StreamID.Exit) {
        return {
          stdout: Buffer.concat(stdout),
          stderr: Buffer.concat(stderr),
          exitCode: frame.data[0] ?? 0,
        }
      }
    }
  }
  throw new SpritesError('internal', 'the HTTP exec response ended without an exit code')
}
