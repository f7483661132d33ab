import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatIPv6, parseProcNetTCP } from './proc-net-tcp.ts'

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 51234 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51240 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1001        0 51299 1 0000000000000000 20 4 30 10 -1
`
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 61000 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 61001 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 61002 1 0000000000000000 100 0 0 10 0
   3: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 61003 1 0000000000000000 100 0 0 10 0
`

test('IPv4 listeners only, address and port decoded', () => {
  assert.deepEqual(parseProcNetTCP(TCP), [
    { port: 8080, address: '127.0.0.1', inode: 51234 },
    { port: 22, address: '0.0.0.0', inode: 51240 },
  ])
})

test('IPv6 listeners: ::, ::1, v4-mapped, a global address', () => {
  assert.deepEqual(parseProcNetTCP(TCP6), [
    { port: 3000, address: '::', inode: 61000 },
    { port: 8081, address: '::1', inode: 61001 },
    { port: 9000, address: '::ffff:127.0.0.1', inode: 61002 },
    { port: 80, address: '2001:db8::1', inode: 61003 },
  ])
})

test('garbage and empty text give nothing', () => {
  assert.deepEqual(parseProcNetTCP(''), [])
  assert.deepEqual(parseProcNetTCP('header\n 0: zz:1 0 0A a b c d e f\n'), [])
})

test('formatIPv6 compresses the longest zero run', () => {
  const b = (groups: number[]) => groups.flatMap((g) => [g >> 8, g & 0xff])
  assert.equal(formatIPv6(b([0xfd00, 0, 0, 1, 0, 0, 0, 2])), 'fd00:0:0:1::2')
  assert.equal(formatIPv6(b([1, 2, 3, 4, 5, 6, 7, 8])), '1:2:3:4:5:6:7:8')
})
