import { readJSON } from '../http/body.ts'
import type { RequestContext } from '../http/context.ts'
import { sendEmpty, sendJSON } from '../http/respond.ts'
import type { ServerModule } from '../module-api.ts'
import type { EgressEnforcer } from './egress-port.ts'
import type { PolicyFiles } from './policy-files.ts'
import { createPolicyService } from './policy-service.ts'
import { networkPolicyOf, privilegesPolicyOf, resourcesPolicyOf } from './sprite-policies.ts'

const POLICY = '/v1/sprites/:name/policy'

export interface PolicyModuleDeps {
  /** Applies network policy changes to running sprites (B's enforcer); absent = stored only. */
  egress?: EgressEnforcer
  /** Keeps `/.sprite/policy/network.json` of running sprites current. */
  files?: Pick<PolicyFiles, 'changed'>
}

/**
 * Policy routes (sprites-api.md §8): network egress (GET; POST and PUT replace, 204), privileges
 * and resources (GET; POST replaces, DELETE reverts, both 204). None of them wakes the sprite.
 */
export function policyModule(deps: PolicyModuleDeps = {}): ServerModule {
  return (api) => {
    const service = createPolicyService({ store: api.store, log: api.log, ...deps })
    const sprite = (ctx: RequestContext) => api.sprites.get(ctx.org, ctx.params.name ?? '')
    const body = (ctx: RequestContext) => readJSON(ctx.req, api.config.maxBodyBytes)
    const noContent = (ctx: RequestContext) => sendEmpty(ctx.res, 204)

    api.route('GET', `${POLICY}/network`, async (ctx) => {
      sendJSON(ctx.res, 200, networkPolicyOf(await sprite(ctx)))
    })
    for (const method of ['POST', 'PUT']) {
      api.route(method, `${POLICY}/network`, async (ctx) => {
        await service.setNetwork(await sprite(ctx), await body(ctx))
        noContent(ctx)
      })
    }

    api.route('GET', `${POLICY}/privileges`, async (ctx) => {
      sendJSON(ctx.res, 200, privilegesPolicyOf(await sprite(ctx)))
    })
    api.route('POST', `${POLICY}/privileges`, async (ctx) => {
      await service.setPrivileges(await sprite(ctx), await body(ctx))
      noContent(ctx)
    })
    api.route('DELETE', `${POLICY}/privileges`, async (ctx) => {
      await service.clearPrivileges(await sprite(ctx))
      noContent(ctx)
    })

    api.route('GET', `${POLICY}/resources`, async (ctx) => {
      sendJSON(ctx.res, 200, resourcesPolicyOf(await sprite(ctx)))
    })
    api.route('POST', `${POLICY}/resources`, async (ctx) => {
      await service.setResources(await sprite(ctx), await body(ctx))
      noContent(ctx)
    })
    api.route('DELETE', `${POLICY}/resources`, async (ctx) => {
      await service.clearResources(await sprite(ctx))
      noContent(ctx)
    })
  }
}
