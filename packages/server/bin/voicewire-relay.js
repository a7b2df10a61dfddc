#!/usr/bin/env node
// `voicewire-relay`: the built program (dist/cli/relay.js, from src/cli/relay.ts). In this repository,
// `pnpm relay` runs the TypeScript source instead, with no build.
import '../dist/cli/relay.js';
