/**
 * Start-up of the command line: declaring the commands loads no heavy package (their actions import the
 * implementation when they run), every command's help works from the build, the version is package.json's,
 * and the constants the help repeats (to stay light) agree with the modules they come from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { VIEW_KINDS } from '../../src/attribution/views.ts';
import { CLI_DEFAULT_LOGIT_SCALE, ZERO_SHOT_VIEW_KINDS } from '../../src/cli/commands/zero-shot.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { VERSION } from '../../src/core/version.ts';
import { DEFAULT_LOGIT_SCALE } from '../../src/probe/zero-shot.ts';
import { repoRoot } from '../helpers/shared-data.ts';
import { staticClosure } from './import-graph.ts';
import { requireBuild, runCli } from './run-cli.ts';

/** Packages that must not load before a command runs (each costs from tens of ms to seconds). */
const HEAVY = [
  /^@tensorflow\//,
  /^onnxruntime-node$/,
  /^onnx-proto$/,
  /^sharp$/,
  /^fastify$/,
  /^@fastify\//,
  /^better-sqlite3$/,
  /^hyparquet$/,
  /^umap-js$/,
  /^d3/,
  /^ajv/,
  /^tsx/,
  /^typebox/,
  /^@aws-sdk\//,
  /^bullmq$/,
  /^ioredis$/,
];

describe('artprobe start-up', () => {
  it('declares every command without loading a heavy package', () => {
    const { files, packages } = staticClosure('src/cli/main.ts');
    expect(packages.filter((p) => HEAVY.some((re) => re.test(p)))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/cli/actions/'))).toEqual([]);
  });

  it('reads the version from package.json', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(buildProgram().version()).toBe(pkg.version);
  });

  it('repeats the zero-shot defaults exactly', () => {
    expect(CLI_DEFAULT_LOGIT_SCALE).toBe(DEFAULT_LOGIT_SCALE);
    expect(ZERO_SHOT_VIEW_KINDS).toBe(VIEW_KINDS.join(', '));
  });

  it('registers every command, with the engine option', () => {
    const program = buildProgram();
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(
      expect.arrayContaining(['doctor', 'encode', 'explain', 'model', 'probe', 'regions', 'report', 'serve']),
    );
    expect(new Set(names).size).toBe(names.length);
    const probe = program.commands.find((c) => c.name() === 'probe');
    expect(probe?.commands.map((c) => c.name())).toEqual([
      'linear',
      'separability',
      'ratings',
      'map',
      'zero-shot',
    ]);
    expect(program.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--backend', '--engine']));
  });

  describe('from the build', () => {
    beforeAll(requireBuild);

    it('prints --version and --help', async () => {
      const v = await runCli(['--version']);
      expect(v.stdout.trim()).toBe(VERSION);
      const h = await runCli(['--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/--engine <kind>/);
      expect(h.stdout).toMatch(/choices: "onnx", "tfjs"/);
    });

    it.each([
      'doctor',
      'encode',
      'explain',
      'model pull',
      'model list',
      'probe linear',
      'probe separability',
      'probe ratings',
      'probe map',
      'probe zero-shot',
      'regions score',
      'regions convert',
      'report',
      'serve',
    ])('prints the help of %s', async (cmd) => {
      const r = await runCli([...cmd.split(' '), '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith(`Usage: artprobe ${cmd} `)).toBe(true);
    });
  });
});
