/** The `canthus` command. Each subcommand lives in its own file and registers itself here. */
import { Command, CommanderError } from 'commander';
import { CanthusError } from '../core/errors.ts';
import { VERSION } from '../core/version.ts';
import { registerAnalyzeCommand } from './analyze.ts';
import { registerConvertCommand } from './convert.ts';
import { registerEstimateCommand } from './estimate.ts';
import { registerImportCommand } from './import.ts';
import { registerReceiveCommand } from './receive.ts';
import { registerRecordCommand } from './record.ts';
import { registerRunCommand } from './run.ts';
import { registerSimulateCommand } from './simulate.ts';

export function buildProgram(): Command {
  const program = new Command('canthus')
    .description(
      'thermal fever-screening appliance: triage at the inner canthus against a blackbody reference',
    )
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerRunCommand(program);
  registerSimulateCommand(program);
  registerRecordCommand(program);
  registerEstimateCommand(program);
  registerConvertCommand(program);
  registerAnalyzeCommand(program);
  registerImportCommand(program);
  registerReceiveCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (error instanceof CanthusError) {
      process.stderr.write(`canthus: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

await main(process.argv);
