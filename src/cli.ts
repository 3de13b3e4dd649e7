#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { registerMonitoringCommands } from './monitoring/monitoring.command';
import { registerRegistryCommands } from './registry/registry.command';
import { registerTrainingCommands } from './training/train.command';

/**
 * The `vigil` command line. Each feature contributes its commands from its own folder
 * (`src/<feature>/<feature>.command.ts` exporting `register<Feature>Commands(program)`), using the
 * same providers as the service through a Nest application context, without HTTP.
 */
export function buildCli(): Command {
  const program = new Command('vigil')
    .description('Vigil: train, register, promote, serve and monitor tabular ONNX models')
    .showHelpAfterError();
  registerTrainingCommands(program);
  registerRegistryCommands(program);
  registerMonitoringCommands(program);
  return program;
}

if (require.main === module) {
  // Tables and --json output go to stdout; the service's JSON log lines must not mix with them.
  process.env.LOG_STREAM ??= 'stderr';
  buildCli()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      const code = (error as { code?: unknown }).code;
      console.error(
        `${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`,
      );
      process.exitCode = 1;
    });
}
