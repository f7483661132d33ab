export type { NetnsNetworkDriver, NetnsNetworkOptions, NetworkMode } from './netns-driver.ts'
export { createNetnsNetworkDriver } from './netns-driver.ts'
export type { RouterRules, SlotAddresses } from './netns-plan.ts'
export {
  formatIPv4,
  parseSubnet,
  routerLinkBatch,
  routerRuleset,
  slotAddresses,
  slotCount,
  spriteLinkBatch,
} from './netns-plan.ts'
