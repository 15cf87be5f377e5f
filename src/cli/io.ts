/** Where commands write. Injected so tests can run a command in-process and read what it printed. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is an interactive terminal (colour, prompts). */
  isTTY: boolean;
  /** Colour only on a TTY and never when NO_COLOR is set (https://no-color.org). */
  color: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): Io {
  const isTTY = Boolean(process.stdout.isTTY);
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    isTTY,
    color: isTTY && !('NO_COLOR' in process.env && process.env.NO_COLOR !== ''),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** An Io that records output, for tests and for embedding. */
export function memoryIo(overrides: Partial<Io> = {}): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    isTTY: false,
    color: false,
    env: {},
    cwd: process.cwd(),
    out,
    err,
    ...overrides,
  };
}
