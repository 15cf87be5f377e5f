/**
 * The validate use case: load the fleet repository (and, when asked, read the wiring) and say
 * what is wrong. Reads files only; the caller renders the result.
 */
import { readWiring } from '../config/env.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../desired/diagnostics.js';
import { loadFleet } from '../desired/load.js';
import { scanForSecrets } from '../desired/secrets.js';
import type { Redactor } from '../redact.js';
import type { WiringEnv } from './ports.js';

export interface ValidateInput {
  repoDir: string;
  /** Also check the provisioning wiring read from these variables (validate --env). */
  wiringEnv?: WiringEnv;
  allowEmpty?: boolean;
  /** Learns the wiring's secret values, so whatever renders the result can scrub them. */
  redactor: Redactor;
}

export interface ValidateResult {
  diagnostics: Diagnostic[];
  /** Present when the fleet loaded without errors. */
  summary?: { tenants: number; workspaces: number; hash: string; commit: string | undefined };
}

export async function validateFleet(input: ValidateInput): Promise<ValidateResult> {
  if (input.wiringEnv) input.redactor.registerEnv(input.wiringEnv);
  const { state, diagnostics, fleet } = await loadFleet(input.repoDir, {
    allowEmpty: input.allowEmpty ?? false,
    ...(input.wiringEnv ? { env: input.wiringEnv } : {}),
  });
  if (input.wiringEnv) diagnostics.push(...readWiring(input.wiringEnv, fleet).diagnostics);
  // A credential in the repository fails validation; its value is registered so that no other
  // message quoting the same text (a schema error on that field) can print it either.
  const secrets = await scanForSecrets(input.repoDir);
  for (const value of secrets.values) input.redactor.register(value);
  diagnostics.push(...secrets.diagnostics);
  sortDiagnostics(diagnostics);
  if (!state || hasErrors(diagnostics)) return { diagnostics };
  return {
    diagnostics,
    summary: {
      tenants: state.tenants.length,
      workspaces: state.tenants.reduce((n, t) => n + t.workspaces.length, 0),
      hash: state.hash,
      commit: state.commit,
    },
  };
}
