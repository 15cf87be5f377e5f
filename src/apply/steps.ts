/** The act steps the executor calls: one import for the whole per-resource layer. */
export * from './context.js';
export { ActCallError, errorCode, hasCode } from './cloud.js';
export { createTenant, repairTenant, deleteTenant, cleanStaleSlugArtifacts, tenantIntent, tenantBundleName } from './tenant.js';
export type { TenantIntent, TenantOutcome, CreateTenantOptions, DeleteTenantOptions } from './tenant.js';
export { createWorkspace, deleteWorkspace, workspaceIntent } from './workspace.js';
export type { WorkspaceIdentity, WorkspaceIntent, WorkspaceOutcome } from './workspace.js';
export { stopTarget, startTarget, resizeTarget, redeploy } from './lifecycle.js';
export type { LifecycleTarget, RedeployTarget, RedeployResult } from './lifecycle.js';
export { runShellCommand, MAX_INSTANCES_PER_SEND } from './command.js';
export type { CommandTarget, CommandRequest, InvocationResult } from './command.js';
