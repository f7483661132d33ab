#!/usr/bin/env node
// spritesd: `spritesd [serve]`, `setup`, `image build --rebuild`, `doctor`, `org …`, `token …`.
import { fileURLToPath } from 'node:url'
import { launch } from '../../../scripts/ts-launcher.mjs'

launch(fileURLToPath(new URL('../src/main.ts', import.meta.url)))
