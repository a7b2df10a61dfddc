#!/usr/bin/env node
// `voicewire-agent`: the built program (dist/cli/agent.js, from src/cli/agent.ts). In this repository,
// `pnpm agent` runs the TypeScript source instead, with no build.
import '../dist/cli/agent.js';
