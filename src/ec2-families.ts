/**
 * Which EC2 instance types the running On-Demand Standard instances quota (Service Quotas
 * L-1216C47A) counts: the A, C, D, H, I (with Im/Is), M, R, T and Z families, each followed by a
 * generation digit. X, P, G, Inf, DL, Trn, Mac, U- and HPC instances have quotas of their own.
 * Shared by the observer (src/live/quotas.ts) and the pure check (src/plan/quotas.ts).
 */
export function isStandardFamily(instanceType: string): boolean {
  return /^([acdhmrtz]|i[ms]?)\d/.test(instanceType);
}
