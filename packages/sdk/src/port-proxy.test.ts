import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { Duplex } from 'node:stream'
import { test } from 'node:test'
import { PortProxy } from './port-proxy.ts'

/** A remote side that answers every chunk upper-cased and closes after `bye`. */
function upperRemote(): Duplex {
  const d: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString()
      d.push(text.toUpperCase())
      if (text.includes('bye')) d.push(null)
      cb()
    },
  })
  return d
}

test('each local connection gets its own remote connection, both ways', async () => {
  let dials = 0
  const proxy = await PortProxy.listen(
    async () => {
      dials++
      return upperRemote()
    },
    { localPort: 0, remotePort: 80 },
  )
  try {
    assert.match(proxy.localAddr(), /^127\.0\.0\.1:\d+$/)
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(proxy.localPort, '127.0.0.1', () => s.write('hello bye'))
      let got = ''
      s.on('data', (d: Buffer) => {
        got += d.toString()
      })
      s.on('end', () => resolve(got))
      s.on('error', reject)
    })
    assert.equal(reply, 'HELLO BYE')
    assert.equal(dials, 1)
  } finally {
    proxy.close()
  }
  await proxy.wait()
})

test('a failed dial closes the local connection and reports the error', async () => {
  const proxy = await PortProxy.listen(
    async () => {
      throw new Error('refused')
    },
    { localPort: 0, remotePort: 80 },
  )
  const errors: string[] = []
  proxy.on('error', (e) => errors.push(e.message))
  try {
    await new Promise<void>((resolve) => {
      const s = connect(proxy.localPort, '127.0.0.1')
      s.on('close', () => resolve())
      s.on('error', () => undefined)
    })
    assert.deepEqual(errors, ['refused'])
  } finally {
    proxy.close()
  }
})
