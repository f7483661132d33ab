import type { Command } from '../../command.ts'

/** `sprite org list`: stored organizations, the current one marked with `*`. */
export const orgList: Command = {
  usage: '',
  summary: 'List the organizations you are logged in to',
  async run(ctx) {
    const { file } = ctx.config
    const cur = file.current_selection
    let n = 0
    for (const [url, entry] of Object.entries(file.urls)) {
      for (const org of Object.keys(entry.orgs)) {
        const mark = cur?.url === url && cur.org === org ? '*' : ' '
        ctx.out(`${mark} ${org}\t${url}`)
        n++
      }
    }
    if (n === 0) ctx.err('No organizations: run `sprite auth setup --token <token>`')
    return 0
  },
}
