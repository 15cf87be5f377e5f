import { createInterface } from 'node:readline';

/** Where commands write. Injected so tests can run a command in-process and read what it printed. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is an interactive terminal (colour, prompts). */
  isTTY: boolean;
  /** True when stderr is an interactive terminal (apply's live progress line); absent: no. */
  stderrIsTTY?: boolean;
  /** Colour only on a TTY and never when NO_COLOR is set (https://no-color.org). */
  color: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Asks a question on an interactive terminal and resolves to the line typed (undefined at end
   * of input). Absent when stdin is not a terminal: commands that need confirmation then require
   * a flag instead (apply --auto-approve).
   */
  readLine?: (prompt: string) => Promise<string | undefined>;
}

export function processIo(): Io {
  const isTTY = Boolean(process.stdout.isTTY);
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    isTTY,
    stderrIsTTY: Boolean(process.stderr.isTTY),
    color: isTTY && !('NO_COLOR' in process.env && process.env.NO_COLOR !== ''),
    env: process.env,
    cwd: process.cwd(),
    ...(process.stdin.isTTY ? { readLine: promptLine } : {}),
  };
}

async function promptLine(prompt: string): Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string | undefined>((resolve) => {
      rl.once('close', () => resolve(undefined));
      rl.question(prompt, resolve);
    });
  } finally {
    rl.close();
  }
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
