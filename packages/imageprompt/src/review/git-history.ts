/**
 * What git says changed in prompt files since a ref: modified, added (also untracked) and removed
 * files, and a file's content at that ref. Run with `git` on the PATH, in the project root.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImagePromptError } from '../errors/errors.js';
import { PROMPT_FILE_SUFFIX } from '../prompt/prompt-file.js';

const run = promisify(execFile);

export type ChangeKind = 'added' | 'modified' | 'removed';

export interface PromptFileChange {
  /** Path relative to the project root, with forward slashes. */
  file: string;
  kind: ChangeKind;
}

async function git(root: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const detail = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n')[0];
    throw new ImagePromptError({
      code: 'GIT_FAILED',
      message: `git ${args.join(' ')} failed: ${detail}`,
      hint: 'run the review inside a git repository, with a ref that exists there (fetch the base branch in CI: actions/checkout with fetch-depth: 0)',
    });
  }
}

/** Prompt files changed between `ref` and the working tree (including files git does not track yet). */
export async function changedPromptFiles(root: string, ref: string): Promise<PromptFileChange[]> {
  // the ref is checked first, so that a typo reads as one, not as "nothing changed"
  await git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  const prefix = (await git(root, ['rev-parse', '--show-prefix'])).trim();
  const local = (path: string) => (path.startsWith(prefix) ? path.slice(prefix.length) : undefined);
  const changes = new Map<string, ChangeKind>();
  const diff = await git(root, ['diff', '--name-status', '--no-renames', '-z', ref, '--', '.']);
  const fields = diff.split('\0').filter(Boolean);
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const file = local(fields[i + 1]!);
    if (!file?.endsWith(PROMPT_FILE_SUFFIX)) continue;
    const status = fields[i]![0];
    changes.set(file, status === 'A' ? 'added' : status === 'D' ? 'removed' : 'modified');
  }
  const untracked = await git(root, ['ls-files', '--others', '--exclude-standard', '-z', '--', '.']);
  for (const path of untracked.split('\0').filter(Boolean)) if (path.endsWith(PROMPT_FILE_SUFFIX)) changes.set(path, 'added');
  return [...changes].map(([file, kind]) => ({ file, kind })).sort((a, b) => a.file.localeCompare(b.file));
}

/** A file's content at `ref` (path relative to the root). */
export function contentAt(root: string, ref: string, file: string): Promise<string> {
  return git(root, ['show', `${ref}:./${file}`]);
}
