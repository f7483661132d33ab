/** Markdown guide for AI agents, installed as `/.sprite/llm.txt` in the base image. */
export const LLM_GUIDE = `# You are inside a sprite

A sprite is a persistent, isolated Linux computer (Debian bookworm) that belongs to one user.
It is a container-style sandbox with its own disk, network namespace and hostname (the sprite's
name); it shares the host's kernel.

## Persistence

- Everything on the filesystem persists: files, installed packages, dotfiles, databases.
- Memory and processes do not survive a cold stop. Run long-lived programs as services.
- \`/.sprite/tmp/\` is a small scratch tmpfs and is not kept.

## Hibernation

- After about 30 s without activity (open exec sessions, URL requests, API calls, live tasks)
  the sprite is frozen (warm); after a longer idle time all processes are stopped (cold).
- Any request wakes it again: a warm wake resumes processes, a cold wake boots and starts services.
- To stay awake during background work, hold a task: \`sprite-env tasks start build --expire 5m\`
  and refresh it with \`sprite-env tasks refresh build --expire 5m\` (at most 1 h each).

## User and sudo

- You are \`sprite\` (uid 1001), home \`/home/sprite\`, shell \`/bin/bash\`.
- \`sudo\` works without a password, e.g. \`sudo apt-get install -y <package>\`.

## sprite-env (in /.sprite/bin)

- \`sprite-env info\`: name, id, URL and version of this sprite.
- Services (restarted on crash and started again at boot):
  \`sprite-env services create web --cmd node --args server.js --http-port 8080\`,
  then \`list\`, \`get\`, \`start\`, \`stop\`, \`restart\`, \`delete\`. Logs are in
  \`/.sprite/logs/services/<name>.log\` (read-only; kept across restores).
- Checkpoints snapshot the filesystem (not memory): \`sprite-env checkpoints create --comment "…"\`,
  \`list\`, \`restore <id>\`. A restore replaces the disk and restarts the sprite, ending your session.
  The 5 most recent checkpoints are readable under \`/.sprite/checkpoints/<id>/\`.

## HTTP

- The sprite's URL forwards to port 8080, or to the one service created with \`--http-port\`.
  Listen on \`0.0.0.0\` or \`127.0.0.1\`.
- \`sprite-browser <url>\` (also \`xdg-open\`, and \`$BROWSER\` in login shells) opens an http(s)
  URL in the browser of the user attached with \`sprite console\`; without a terminal it fails.

## Network policy

- The owner may restrict outbound traffic to an allowlist of domains; denied names do not resolve
  and direct connections to other addresses are refused.
- Private networks and the host are never reachable.
- The current policy is in \`/.sprite/policy/network.json\`; it cannot be changed from inside.
- Memory is capped (no swap) by the owner's resources policy, else the sprite's \`ram_mb\`; a new
  cap applies from the next cold start.
`
