#!/usr/bin/env node
// The `dcs` command. TypeScript runs through tsx, so `npm install && npm start` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/cli.ts');
process.exitCode = await main(process.argv.slice(2));
