import type { CLIInput, CLIOutput } from './io.ts'

/** Reads one line from `input` (without the newline); resolves '' at end of input. */
export function readLine(input: CLIInput): Promise<string> {
  return new Promise((resolve) => {
    let buf = ''
    const done = (line: string) => {
      input.removeListener('data', onData)
      input.removeListener('end', onEnd)
      input.pause()
      resolve(line.replace(/\r$/, ''))
    }
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString()
      const nl = buf.indexOf('\n')
      if (nl >= 0) done(buf.slice(0, nl))
    }
    const onEnd = () => done(buf)
    input.on('data', onData)
    input.on('end', onEnd)
    input.resume()
  })
}

/** Prints `question` on `output` and reads the answer. */
export async function ask(input: CLIInput, output: CLIOutput, question: string): Promise<string> {
  output.write(question)
  return (await readLine(input)).trim()
}
