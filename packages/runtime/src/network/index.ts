export type { ARecord, DnsAnswer, DnsQuestion } from './dns-message.ts'
export { buildQuery, errorResponse, parseAnswer, parseQuery, RCODE } from './dns-message.ts'
export { EgressFailedClosedError } from './egress-controller.ts'
export type { AllowedAddress, SpriteEgressTarget } from './egress-plan.ts'
export { allowBatch, egressNames, enforceBatch, openBatch } from './egress-plan.ts'
export type { NetnsNetworkDriver, NetnsNetworkOptions, NetworkMode } from './netns-driver.ts'
export { createNetnsNetworkDriver } from './netns-driver.ts'
export type { RouterRules, SlotAddresses } from './netns-plan.ts'
export {
  BLOCKED_IPV4,
  formatIPv4,
  parseSubnet,
  routerLinkBatch,
  routerRuleset,
  slotAddresses,
  slotCount,
  spriteLinkBatch,
} from './netns-plan.ts'
