/**
 * SDK clients that talk to moto directly (not through the proxy, so their calls are neither
 * recorded nor faulted), in the emulator's account. The proxy uses them to look up the state it
 * needs for the checks moto does not make itself.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The part of any SDK v3 client this needs; avoids importing the transitive @smithy/types. */
interface HeaderSettable {
  middlewareStack: {
    add(
      middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
}

export interface MotoBackends {
  ec2(region: string): EC2Client;
  secrets(region: string): SecretsManagerClient;
  destroy(): void;
}

/** Adds moto's account selector header to every request of `client`. */
export function addMotoAccountHeader(client: { middlewareStack: unknown }, accountId: string): void {
  (client as HeaderSettable).middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-moto-account-id'] = accountId;
      return next(args);
    },
    { step: 'build', name: 'motoAccountHeader' },
  );
}

export function motoBackends(motoUrl: string, accountId: string): MotoBackends {
  const ec2 = new Map<string, EC2Client>();
  const secrets = new Map<string, SecretsManagerClient>();
  const config = (region: string) => ({
    region,
    endpoint: motoUrl,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  function cached<T extends EC2Client | SecretsManagerClient>(map: Map<string, T>, region: string, make: () => T): T {
    let client = map.get(region);
    if (!client) {
      client = make();
      addMotoAccountHeader(client, accountId);
      map.set(region, client);
    }
    return client;
  }
  return {
    ec2: (region) => cached(ec2, region, () => new EC2Client(config(region))),
    secrets: (region) => cached(secrets, region, () => new SecretsManagerClient(config(region))),
    destroy() {
      for (const client of [...ec2.values(), ...secrets.values()]) client.destroy();
    },
  };
}
