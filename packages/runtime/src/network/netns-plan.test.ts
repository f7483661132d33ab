import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  parseSubnet,
  routerLinkBatch,
  routerRuleset,
  slotAddresses,
  slotCount,
  spriteLinkBatch,
} from './netns-plan.ts'

test('each slot gets its own /30 of the subnet', () => {
  assert.deepEqual(slotAddresses('10.201.0.0/16', 0), {
    gateway: '10.201.0.1',
    address: '10.201.0.2',
    prefixLength: 30,
  })
  assert.equal(slotAddresses('10.201.0.0/16', 1).gateway, '10.201.0.5')
  assert.equal(slotAddresses('10.201.0.0/16', 64).address, '10.201.1.2')
  assert.equal(slotAddresses('10.201.0.0/16', 16383).address, '10.201.255.254')
  assert.equal(slotCount('10.201.0.0/16'), 16384)
})

test('bad subnets and slots outside the pool are refused', () => {
  assert.throws(() => parseSubnet('10.201.0.0'), RangeError)
  assert.throws(() => parseSubnet('10.300.0.0/16'), RangeError)
  assert.throws(() => parseSubnet('10.0.0.0/31'), RangeError)
  assert.throws(() => slotAddresses('10.201.0.0/16', 16384), RangeError)
  assert.throws(() => slotAddresses('10.201.0.0/16', -1), RangeError)
  assert.throws(() => slotAddresses('10.201.0.0/16', 1.5), RangeError)
  assert.equal(parseSubnet('10.201.3.7/16').network, parseSubnet('10.201.0.0/16').network)
})

test('the ip batches build both ends of the link', () => {
  const a = slotAddresses('10.201.0.0/16', 3)
  assert.equal(
    routerLinkBatch('vs3', 'sprite-3', a),
    'link add vs3 type veth peer name eth0 netns sprite-3\naddr add 10.201.0.13/30 dev vs3\nlink set vs3 up\n',
  )
  assert.equal(
    spriteLinkBatch(a),
    'addr add 10.201.0.14/30 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via 10.201.0.13\n',
  )
})

test('the ruleset isolates sprites and masquerades upstream traffic', () => {
  const rules = routerRuleset({ table: 'sprites', vethPrefix: 'vs', subnet: '10.201.3.0/16' })
  assert.match(rules, /^table inet sprites \{\}\ndelete table inet sprites\n/)
  assert.match(rules, /iifname "vs\*" oifname "vs\*" drop/)
  assert.match(rules, /iifname "vs\*" oifname != "vs\*" oifname != "lo" accept/)
  assert.match(rules, /oifname "vs\*" ct state established,related accept\n\s+oifname "vs\*" drop/)
  assert.match(rules, /masquerade/)
  assert.doesNotMatch(rules, /policy drop/)
  const withUplink = routerRuleset({
    table: 't',
    vethPrefix: 'vs',
    subnet: '10.201.0.0/16',
    uplink: 'up0',
  })
  assert.match(withUplink, /iifname "vs\*" oifname "up0" accept/)
  assert.match(withUplink, /oifname "up0" masquerade/)
})

test('private ranges, IPv6 and spoofed sources never leave; enforced sprites go through the map', () => {
  const rules = routerRuleset({ table: 'sprites', vethPrefix: 'vs', subnet: '10.201.0.0/16' })
  for (const range of [
    '10.0.0.0/8',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '100.64.0.0/10',
    '169.254.0.0/16',
  ]) {
    assert.ok(rules.includes(range), `${range} is blocked`)
  }
  assert.match(rules, /iifname "vs\*" fib saddr \. iif oif missing drop/)
  const forward = rules.slice(
    rules.indexOf('chain forward_filter'),
    rules.indexOf('chain input_filter'),
  )
  const order = [
    'iifname "vs*" meta nfproto ipv6 drop',
    'iifname "vs*" ip daddr @blocked4 meta l4proto tcp reject with tcp reset',
    'iifname "vs*" ip daddr @blocked4 reject with icmpx type admin-prohibited',
    'iifname "vs*" ip saddr vmap @egress',
    'iifname "vs*" oifname != "vs*" oifname != "lo" accept',
  ].map((r) => forward.indexOf(r))
  assert.ok(
    order.every((i) => i > 0),
    forward,
  )
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    'checked in this order',
  )
  // No established shortcut for packets a sprite sends out: the egress map sees them all.
  assert.doesNotMatch(forward, /iifname "vs\*" ct state established/)
})

test("the router itself only answers DNS on the sprites' gateways", () => {
  const rules = routerRuleset({ table: 'sprites', vethPrefix: 'vs', subnet: '10.201.3.0/16' })
  const input = rules.slice(
    rules.indexOf('chain input_filter'),
    rules.indexOf('chain nat_postrouting'),
  )
  assert.match(
    input,
    /iifname "vs\*" ct state established,related accept\n\s+iifname "vs\*" ip daddr 10\.201\.0\.0\/16 meta l4proto \{ tcp, udp \} th dport 53 accept\n\s+iifname "vs\*" drop/,
  )
})
