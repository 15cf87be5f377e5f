/**
 * Boot scripts and SSM scripts. None of them holds a secret: the tenant VM fetches its bootstrap
 * bundle from Secrets Manager by name with its instance profile, so user-data (readable by anyone
 * with DescribeInstanceAttribute) and SSM command parameters (kept in command history) stay clean.
 * The same shell functions serve first boot and redeploys, so a redeploy recreates exactly what
 * boot made.
 */

export interface TenantScriptParams {
  region: string;
  orgId: string;
  slug: string;
  /** Secrets Manager name of the bootstrap bundle. */
  bundleName: string;
  image: string;
  platformPort: number;
}

export interface WorkspaceScriptParams {
  region: string;
  orgId: string;
  workspaceId: string;
  runtime: string;
  /** Set: containerised path (install docker if missing, pull, run). Unset: the AMI runs the runtime. */
  image: string | undefined;
  /** The tenant's bundle: read only for the registry pull token when the image is on ghcr.io. */
  tenantBundleName: string;
  controlPlaneUrl: string | undefined;
}

/** POSIX single-quote: safe for any value. */
export function shq(value: string | number): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

const CONF_DIR = '/etc/tenantform';
const CLOUDFLARED_IMAGE = 'cloudflare/cloudflared:latest';

const installTools = `
ensure_tools() {
  if ! command -v docker >/dev/null 2>&1; then
    if command -v dnf >/dev/null 2>&1; then dnf install -y docker; else apt-get update -y && apt-get install -y docker.io; fi
  fi
  systemctl enable --now docker
  for tool in aws jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      if command -v dnf >/dev/null 2>&1; then dnf install -y "$([ "$tool" = aws ] && echo awscli || echo jq)"; else apt-get install -y "$([ "$tool" = aws ] && echo awscli || echo jq)"; fi
    fi
  done
}`;

/** Writes the bundle as an env file readable by root only; the values never touch argv or logs. */
const fetchBundle = `
fetch_bundle() {
  install -d -m 0700 ${CONF_DIR}
  umask 077
  aws secretsmanager get-secret-value --region "$REGION" --secret-id "$BUNDLE" --query SecretString --output text \\
    | jq -r 'to_entries[] | "\\(.key)=\\(.value)"' > ${CONF_DIR}/platform.env.new
  mv ${CONF_DIR}/platform.env.new ${CONF_DIR}/platform.env
  grep '^TUNNEL_TOKEN=' ${CONF_DIR}/platform.env > ${CONF_DIR}/tunnel.env || true
}`;

const registryLogin = (envFile: string) => `
registry_login() {
  case "$IMAGE" in
    ghcr.io/*)
      token="$(sed -n 's/^GHCR_PULL_TOKEN=//p' ${envFile})"
      if [ -n "$token" ]; then printf '%s' "$token" | docker login ghcr.io -u tenantform --password-stdin >/dev/null; fi
      unset token ;;
  esac
}`;

const runPlatform = `
run_platform() {
  docker pull "$IMAGE"
  docker rm -f platform >/dev/null 2>&1 || true
  docker run -d --name platform --restart unless-stopped --env-file ${CONF_DIR}/platform.env \\
    -e "PLATFORM_PORT=$PORT" -p "$PORT:$PORT" --label tenantform.image="$IMAGE" "$IMAGE"
}`;

const runTunnel = `
run_tunnel() {
  docker rm -f cloudflared >/dev/null 2>&1 || true
  docker run -d --name cloudflared --restart unless-stopped --network host --env-file ${CONF_DIR}/tunnel.env \\
    ${CLOUDFLARED_IMAGE} tunnel --no-autoupdate run
}`;

function tenantConf(p: TenantScriptParams): string {
  return [`REGION=${shq(p.region)}`, `BUNDLE=${shq(p.bundleName)}`, `PORT=${shq(p.platformPort)}`].join('\n');
}

export function tenantUserData(p: TenantScriptParams): string {
  return `#!/bin/bash
# tenantform tenant bootstrap: org ${p.orgId} (${p.slug}). Holds no secret: the bundle is read by name.
set -euo pipefail
install -d -m 0700 ${CONF_DIR}
# Redeploys over SSM read this, so their scripts carry only the image and one command serves many tenants.
cat > ${CONF_DIR}/tenant.conf <<'TENANTFORM_CONF'
${tenantConf(p)}
TENANTFORM_CONF
. ${CONF_DIR}/tenant.conf
IMAGE=${shq(p.image)}
${installTools}
${fetchBundle}
${registryLogin(`${CONF_DIR}/platform.env`)}
${runPlatform}
${runTunnel}

ensure_tools
fetch_bundle
registry_login
run_platform
run_tunnel
`;
}

/**
 * SSM script for a tenant redeploy: re-read the bundle, pull, recreate the platform container;
 * never a reboot. Identical for every tenant on the same image (the rest comes from tenant.conf).
 */
export function tenantRedeployScript(image: string): string {
  return `#!/bin/bash
# tenantform tenant redeploy. Holds no secret.
set -euo pipefail
if [ ! -f ${CONF_DIR}/tenant.conf ]; then echo 'not bootstrapped by tenantform: ${CONF_DIR}/tenant.conf missing' >&2; exit 3; fi
. ${CONF_DIR}/tenant.conf
IMAGE=${shq(image)}
${fetchBundle}
${registryLogin(`${CONF_DIR}/platform.env`)}
${runPlatform}
${runTunnel}

fetch_bundle
registry_login
run_platform
docker ps --format '{{.Names}}' | grep -qx cloudflared || run_tunnel
`;
}

function workspaceConf(p: WorkspaceScriptParams): string {
  return [`REGION=${shq(p.region)}`, `TENANT_BUNDLE=${shq(p.tenantBundleName)}`].join('\n');
}

function workspaceEnv(p: WorkspaceScriptParams): string {
  return [`ORG_ID=${p.orgId}`, `WORKSPACE_ID=${p.workspaceId}`, `RUNTIME=${p.runtime}`, `CP_BASE_URL=${p.controlPlaneUrl ?? ''}`].map(shq).join(' ');
}

/** Reads only the pull token from the tenant bundle, into a root-only file removed after login. */
const workspaceRegistryLogin = `
registry_login() {
  case "$IMAGE" in
    ghcr.io/*)
      umask 077
      aws secretsmanager get-secret-value --region "$REGION" --secret-id "$TENANT_BUNDLE" --query SecretString --output text \\
        | jq -r '"GHCR_PULL_TOKEN=" + (.GHCR_PULL_TOKEN // "")' > ${CONF_DIR}/pull.env
      token="$(sed -n 's/^GHCR_PULL_TOKEN=//p' ${CONF_DIR}/pull.env)"
      rm -f ${CONF_DIR}/pull.env
      if [ -n "$token" ]; then printf '%s' "$token" | docker login ghcr.io -u tenantform --password-stdin >/dev/null; fi
      unset token ;;
  esac
}`;

const runWorkspace = `
run_workspace() {
  docker pull "$IMAGE"
  docker rm -f workspace >/dev/null 2>&1 || true
  docker run -d --name workspace --restart unless-stopped --env-file ${CONF_DIR}/workspace.env --label tenantform.image="$IMAGE" "$IMAGE"
}`;

export function workspaceUserData(p: WorkspaceScriptParams): string {
  const head = `#!/bin/bash
# tenantform workspace bootstrap: workspace ${p.workspaceId} of org ${p.orgId} (${p.runtime}). Holds no secret.
set -euo pipefail
install -d -m 0755 ${CONF_DIR}
cat > ${CONF_DIR}/workspace.conf <<'TENANTFORM_CONF'
${workspaceConf(p)}
TENANTFORM_CONF
printf '%s\\n' ${workspaceEnv(p)} > ${CONF_DIR}/workspace.env`;
  if (!p.image) {
    // Native path: the runtime's AMI carries the agent and reads workspace.env when its unit starts.
    return `${head}
if systemctl list-unit-files tenantform-workspace.service >/dev/null 2>&1; then systemctl enable --now tenantform-workspace.service; fi
`;
  }
  return `${head}
. ${CONF_DIR}/workspace.conf
IMAGE=${shq(p.image)}
${installTools}
${workspaceRegistryLogin}
${runWorkspace}

ensure_tools
registry_login
run_workspace
`;
}

/** SSM script for a workspace image refresh: pull and recreate the workspace container; no reboot. */
export function workspaceRefreshScript(image: string): string {
  return `#!/bin/bash
# tenantform workspace image refresh. Holds no secret.
set -euo pipefail
if [ ! -f ${CONF_DIR}/workspace.conf ]; then echo 'not bootstrapped by tenantform: ${CONF_DIR}/workspace.conf missing' >&2; exit 3; fi
. ${CONF_DIR}/workspace.conf
IMAGE=${shq(image)}
${installTools}
${workspaceRegistryLogin}
${runWorkspace}

ensure_tools
registry_login
run_workspace
`;
}

export function toBase64(script: string): string {
  return Buffer.from(script, 'utf8').toString('base64');
}
