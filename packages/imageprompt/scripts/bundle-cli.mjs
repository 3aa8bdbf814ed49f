// Bundles the command (dist/cli/main.js and everything it imports) into one file,
// dist/cli/imageprompt.js, which dist/cli/bin.js loads. Loading the engine as some 280 separate
// modules (95 of them zod's) cost a command about 0.17 s before it did anything; one file costs a
// fraction of that. Only pure-JavaScript dependencies are bundled, each with its licence text written
// beside the bundle: sharp (native) and viem (large, needed only to pay with a wallet) stay packages,
// imported on first use, and so does thumbhash (one small module, published without a licence file
// to ship). Run by the root build after tsc.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(pkg, 'dist', 'cli');
const { dependencies } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
const unbundled = ['sharp', 'viem', 'thumbhash'];
for (const name of unbundled) {
  if (!dependencies[name]) throw new Error(`bundle-cli: ${name} is no longer a dependency of imageprompt; update the list of unbundled packages`);
}

const result = await build({
  entryPoints: [join(cli, 'main.js')],
  outfile: join(cli, 'imageprompt.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: unbundled.flatMap((name) => [name, `${name}/*`]),
  // CommonJS dependencies (fast-glob) require Node's built-in modules: give the bundle a require
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

// one notice per bundled package: its name, version and licence text
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!match || packages.has(match[1])) continue;
  const root = input.slice(0, match.index + match[0].length);
  packages.set(match[1], root);
}
const notices = [];
for (const [name, root] of [...packages].sort(([a], [b]) => a.localeCompare(b))) {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const licence = await licenceText(root);
  if (!licence) throw new Error(`bundle-cli: ${name} has no licence file to ship with the bundle`);
  notices.push(`## ${name} ${manifest.version} (${manifest.license})\n\n${licence.trim()}\n`);
}
await writeFile(
  join(cli, 'imageprompt.js.LICENSES.md'),
  `# Licences of the packages bundled into imageprompt.js\n\n${notices.join('\n')}`,
);

async function licenceText(root) {
  for (const file of ['LICENSE', 'LICENSE.md', 'license', 'LICENCE', 'LICENSE.txt']) {
    try {
      return await readFile(join(root, file), 'utf8');
    } catch {
      // try the next name
    }
  }
  return undefined;
}
