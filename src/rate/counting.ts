/**
 * A rate gate that tells an observer about every attempt it lets through (each retry of a
 * throttled call is an attempt) and every throttling answer, by service: `ec2`, `secretsManager`,
 * `ssm`, …, and `cloudflare`. serve's /metrics counts these; the CLI commands pass no observer.
 */
import type { RateGate } from './gate.js';
import { isThrottleError } from './throttle.js';

export type CallObserver = (service: string, throttled: boolean) => void;

export function countingGate(gate: RateGate, observe: CallObserver): RateGate {
  const counted =
    <T>(service: string, fn: () => Promise<T>) =>
    async (): Promise<T> => {
      try {
        const value = await fn();
        observe(service, false);
        return value;
      } catch (e) {
        observe(service, isThrottleError(e));
        throw e;
      }
    };
  return {
    aws: (service, action, fn) => gate.aws(service, action, counted(service, fn)),
    cloudflare: (op, fn) => gate.cloudflare(op, counted('cloudflare', fn)),
  };
}
