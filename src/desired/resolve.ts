/**
 * What a tenant or workspace actually runs as: the tier table and its clamp, the per-runtime
 * volume floors, AMI pins and image pins applied to what the files say.
 */
import type { EffectiveTenant, EffectiveWorkspace, FleetSpec, TenantSpec, TierSpec, WorkspaceSpec } from './model.js';

export interface TierResolution {
  written: TierSpec;
  effective: TierSpec;
  /** Why effective differs from written: the clamp moved it, or `reserved` names the reserved tier it skipped. */
  because: { clamp: boolean; reserved: string | undefined };
}

/** Resolves tier names through the clamp; undefined for a name not in the table. */
export function tierResolver(fleet: FleetSpec): (name: string) => TierResolution | undefined {
  const index = new Map<string, number>();
  fleet.tiers.forEach((t, i) => {
    if (!index.has(t.name)) index.set(t.name, i);
  });
  const min = index.get(fleet.tierClamp.min) ?? 0;
  const max = index.get(fleet.tierClamp.max) ?? fleet.tiers.length - 1;
  const cache = new Map<string, TierResolution | undefined>();
  return (name) => {
    if (cache.has(name)) return cache.get(name);
    const i = index.get(name);
    let result: TierResolution | undefined;
    if (i !== undefined) {
      const clamped = Math.min(Math.max(i, min), max);
      // A reserved tier inside the clamp runs as the next usable tier up, else down.
      let k = clamped;
      while (k <= max && fleet.tiers[k]!.reserved) k++;
      if (k > max) {
        k = clamped;
        while (k >= min && fleet.tiers[k]!.reserved) k--;
      }
      const reserved = k !== clamped ? fleet.tiers[clamped]!.name : undefined;
      result = { written: fleet.tiers[i]!, effective: fleet.tiers[k]!, because: { clamp: clamped !== i, reserved } };
    }
    cache.set(name, result);
    return result;
  };
}

export function amiPin(fleet: FleetSpec, runtime: string): string | undefined {
  return fleet.amiPins.find((p) => p.runtime === runtime && p.region === fleet.region)?.ami;
}

export function resolveWorkspace(fleet: FleetSpec, tier: TierResolution, spec: WorkspaceSpec, defaultAmi: string): EffectiveWorkspace {
  const floor = fleet.volumeFloors[spec.runtime] ?? 0;
  return {
    tier: tier.effective.name,
    instanceType: tier.effective.instanceType,
    volumeGb: Math.max(tier.effective.volumeGb, floor),
    ami: amiPin(fleet, spec.runtime) ?? defaultAmi,
    image: spec.image ?? fleet.runtimeImagePins[spec.runtime],
  };
}

export function resolveTenant(fleet: FleetSpec, spec: TenantSpec, defaultAmi: string): EffectiveTenant {
  return {
    instanceType: spec.instanceType ?? fleet.tenant.instanceType,
    volumeGb: fleet.tenant.volumeGb,
    ami: defaultAmi,
    image: spec.canary && fleet.canaryTenantImage ? fleet.canaryTenantImage : fleet.tenantImage,
  };
}
