import { type Command } from 'commander';
import { buildCli } from '../../src/cli';

export interface CliRun {
  stdout: string;
  stderr: string;
  /** 0 on success; 1 when the command threw or set process.exitCode. */
  exitCode: number;
  error?: unknown;
}

/** Runs `vigil <args>` in-process (the same code as `node dist/cli.js`), capturing its output. */
export async function runCli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const program = buildCli();
  const configure = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
    command.commands.forEach(configure);
  };
  configure(program);
  const log = jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    out.push(`${parts.join(' ')}\n`);
  });
  const error = jest.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => {
    err.push(`${parts.join(' ')}\n`);
  });
  const previousExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'vigil', ...args]);
    const exitCode = Number(process.exitCode ?? 0);
    return { stdout: out.join(''), stderr: err.join(''), exitCode };
  } catch (thrown) {
    const code = (thrown as { code?: string }).code;
    // --help ends with a CommanderError that is not a failure.
    const exitCode = code === 'commander.helpDisplayed' ? 0 : 1;
    return { stdout: out.join(''), stderr: err.join(''), exitCode, error: thrown };
  } finally {
    process.exitCode = previousExitCode;
    log.mockRestore();
    error.mockRestore();
  }
}
