export {
  createInSpriteAPI,
  type InSpriteAPI,
  type InSpriteAPIOptions,
  type InSpriteContext,
  type InSpriteHandler,
  type InSpritePeer,
} from './insprite-api.ts'
