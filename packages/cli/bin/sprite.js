#!/usr/bin/env node
// The `sprite` CLI (TypeScript, run through tsx).
import { fileURLToPath } from 'node:url'
import { launch } from '../../../scripts/ts-launcher.mjs'

launch(fileURLToPath(new URL('../src/main.ts', import.meta.url)))
