/** How prompt-file imports become module ids, and the names their images are emitted under. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageAsset } from '../src/core/emit/asset-emitter.js';
import { LOAD_FILTER, ModuleIds, RESOLVE_FILTER, importDirectives, isPromptImport } from '../src/core/module-id.js';
import { parseDirectives } from '../src/core/import-directives.js';

const ROOT = '/project';

describe('module ids', () => {
  it('takes prompt files with or without the query, and nothing else', () => {
    expect(isPromptImport('./hero.imageprompt.json')).toBe(true);
    expect(isPromptImport('./hero.imageprompt.json?imageprompt')).toBe(true);
    expect(isPromptImport('./hero.imageprompt.json?raw')).toBe(false);
    expect(isPromptImport('./hero.json')).toBe(false);
    expect(RESOLVE_FILTER.test('./hero.imageprompt.json?imageprompt')).toBe(true);
    expect(RESOLVE_FILTER.test('./hero.imageprompt.json?url')).toBe(false);
    // directives, with the flag first or last
    for (const id of ['./hero.imageprompt.json?imageprompt&w=480;960&format=avif', './hero.imageprompt.json?w=480&imageprompt']) {
      expect(isPromptImport(id)).toBe(true);
      expect(RESOLVE_FILTER.test(id)).toBe(true);
    }
    expect(isPromptImport('./hero.imageprompt.json?w=480')).toBe(false);
    expect(RESOLVE_FILTER.test('./hero.imageprompt.json?w=480')).toBe(false);
    expect(RESOLVE_FILTER.test('./hero.imageprompt.json?imageprompts')).toBe(false);
  });

  it('gives each set of directives its own module, which gives the file and its directives back', () => {
    const ids = new ModuleIds(() => ROOT);
    const importer = join(ROOT, 'src', 'main.ts');
    const plain = ids.toVirtual('./hero.imageprompt.json?imageprompt', importer);
    const sized = ids.toVirtual('./hero.imageprompt.json?imageprompt&w=480&format=avif', importer);
    // the same directives in another order are the same module
    expect(ids.toVirtual('./hero.imageprompt.json?format=avif&w=480&imageprompt', importer)).toBe(sized);
    expect(sized).toBe('\0imageprompt:src/hero.imageprompt.json&format=avif&w=480.js');
    expect(LOAD_FILTER.test(sized)).toBe(true);
    expect(ids.promptFile(sized)).toBe(join(ROOT, 'src', 'hero.imageprompt.json'));
    expect([ids.directives(plain), ids.directives(sized)]).toEqual(['', 'format=avif&w=480']);
    expect(ids.idsOf(join(ROOT, 'src', 'hero.imageprompt.json')).sort()).toEqual([plain, sized].sort());
    expect(ids.readable(`Could not load ${sized}`)).toBe('Could not load src/hero.imageprompt.json');
  });

  it('resolves relative, root-relative and absolute imports to one virtual id per file, which gives the file back', () => {
    const file = join(ROOT, 'src', 'assets', 'hero.imageprompt.json');
    const ids = new ModuleIds(() => ROOT);
    const made = [
      ids.toVirtual('./assets/hero.imageprompt.json?imageprompt', join(ROOT, 'src', 'main.ts')),
      ids.toVirtual('../assets/hero.imageprompt.json', join(ROOT, 'src', 'pages', 'index.astro?astro&type=script')),
      ids.toVirtual('/src/assets/hero.imageprompt.json', join(ROOT, 'src', 'main.ts')),
    ];
    expect(new Set(made).size).toBe(1);
    const [id] = made;
    expect(ids.isVirtual(id!)).toBe(true);
    expect(LOAD_FILTER.test(id!)).toBe(true);
    // ends in .js, so that no JSON plugin takes it
    expect(id!.endsWith('.json')).toBe(false);
    expect(ids.promptFile(id!)).toBe(file);
  });

  it('name the file relative to the root, so that no bundle carries a path of the build machine', () => {
    const rollup = new ModuleIds(() => ROOT);
    expect(rollup.toVirtual('./hero.imageprompt.json', join(ROOT, 'src', 'main.ts'))).toBe('\0imageprompt:src/hero.imageprompt.json.js');
    // a prompt file outside the root (a monorepo's shared folder) stays relative too
    const shared = rollup.toVirtual('../../shared/logo.imageprompt.json', join(ROOT, 'src', 'main.ts'));
    expect(shared).toBe('\0imageprompt:../shared/logo.imageprompt.json.js');
    expect(rollup.promptFile(shared)).toBe(join(ROOT, '..', 'shared', 'logo.imageprompt.json'));
    // an error naming the id names the file instead
    expect(rollup.readable('Could not load \0imageprompt:src/hero.imageprompt.json.js (imported by src/main.js): bad')).toBe(
      'Could not load src/hero.imageprompt.json (imported by src/main.js): bad',
    );
  });
});

describe('import directives', () => {
  it('take url alone, on either side of the flag, and refuse it with a value or with sizes', () => {
    for (const id of ['./hero.imageprompt.json?imageprompt&url', './hero.imageprompt.json?url&imageprompt']) {
      expect(RESOLVE_FILTER.test(id)).toBe(true);
      expect(parseDirectives(importDirectives(id)!, 'src/hero.imageprompt.json')).toEqual({ url: true });
    }
    expect(() => parseDirectives('url=1', 'src/hero.imageprompt.json')).toThrow(/the import's "url" takes no value \(it is "1"\)/);
    expect(() => parseDirectives(importDirectives('./hero.imageprompt.json?imageprompt&url&format=webp')!, 'src/hero.imageprompt.json')).toThrow(
      /asks for the URL alone \(url\) and for responsive sizes \(format\)/,
    );
    expect(() => parseDirectives('urls', 'src/hero.imageprompt.json')).toThrow(/did you mean "url"/);
  });
});

describe('emitted names', () => {
  const image = { path: '/cache/blobs/ab.webp', format: 'webp' as const, digest: 'ab' };
  it('are the prompt file name, numbered when the file has variants', () => {
    expect(imageAsset('/project/src/hero.imageprompt.json', 0, 1, image)).toMatchObject({ name: 'hero', extension: 'webp' });
    expect(imageAsset('/project/src/pears.imageprompt.json', 1, 4, { ...image, path: '/cache/blobs/cd.png', format: 'png' })).toMatchObject({ name: 'pears-2', extension: 'png' });
    // a file named only by the suffix still gets a name
    expect(imageAsset('/project/src/.imageprompt.json', 0, 1, image).name).toBe('image');
  });
});
