#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm install` through the prepare script).
import { installCrashHandlers, main } from '../dist/cli/main.js';

// A stray rejection or exception outside main() is reported as a bug in one line, not a stack trace.
installCrashHandlers();

process.exitCode = await main(process.argv.slice(2));
