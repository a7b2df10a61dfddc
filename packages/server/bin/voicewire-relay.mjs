#!/usr/bin/env node
// The package ships TypeScript sources (its exports point at src/): run the CLI through tsx's
// loader so that `voicewire-relay` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/relay.ts');
