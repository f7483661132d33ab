#!/usr/bin/env node
// spritesd: `spritesd [serve]`, `spritesd setup`, `spritesd image build --rebuild`, `spritesd doctor`.
import { fileURLToPath } from 'node:url'
import { launch } from '../../../scripts/ts-launcher.mjs'

launch(fileURLToPath(new URL('../src/main.ts', import.meta.url)))
