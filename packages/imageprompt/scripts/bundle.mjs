// What the packages ship is bundled from tsc's output (dist/), because loading many small modules is
// what a short build or command paid most for: Node loads an ES module for about 1 ms on these
// machines, and the plugin's hit path was 36 of them, the command some 280. Run by the root build
// after tsc. Three bundles:
//
// - The libraries, each package's entry points (the "import" targets of its package.json `exports`,
//   which name dist/bundle/<entry>.js for dist/<entry>.js): their own code only, every package they
//   depend on stays an import. The engine's entry and `imageprompt/hits` share chunks, so a class
//   both use is one class (an error thrown by the engine is still an `ImagePromptError` to the
//   plugin), and the hit path still loads neither the engine nor zod.
// - The command, dist/cli/imageprompt.js, which dist/cli/bin.js loads: with its pure-JavaScript
//   dependencies bundled too (zod alone is 95 modules), their licence texts written beside it. sharp
//   (native) and viem (large, needed only to pay with a wallet) stay packages, imported on first use,
//   and so does thumbhash (one small module, published without a licence file to ship).
//
// The bundles sit two folders below the package (dist/bundle/, dist/cli/), as the modules they come
// from do, so that the paths the code finds its data by (`../../data/…`) stay right.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: 'linked', sourcesContent: false, legalComments: 'none', logLevel: 'warning' };

for (const name of ['imageprompt', 'unplugin-imageprompt']) await bundleLibrary(join(packagesDir, name));
await bundleCommand(join(packagesDir, 'imageprompt'));

/** The package's entry points, from its `exports`, bundled with their shared chunks into dist/bundle/. */
async function bundleLibrary(pkg) {
  const { exports } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
  const entryPoints = {};
  for (const [subpath, target] of Object.entries(exports)) {
    if (typeof target !== 'object' || !target.import) continue;
    const entry = /^\.\/dist\/bundle\/([\w-]+)\.js$/.exec(target.import)?.[1];
    if (!entry) throw new Error(`bundle: ${subpath} of ${pkg} imports ${target.import}; entry points are dist/bundle/<entry>.js, bundled from dist/<entry>.js`);
    entryPoints[entry] = join(pkg, 'dist', `${entry}.js`);
  }
  const outdir = join(pkg, 'dist', 'bundle');
  await rm(outdir, { recursive: true, force: true });
  await build({ ...common, entryPoints, outdir, splitting: true, packages: 'external', chunkNames: 'chunk-[hash]' });
}

/** The command with its pure-JavaScript dependencies, and their licences beside it. */
async function bundleCommand(pkg) {
  const cli = join(pkg, 'dist', 'cli');
  const { dependencies } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
  const unbundled = ['sharp', 'viem', 'thumbhash'];
  for (const name of unbundled) {
    if (!dependencies[name]) throw new Error(`bundle: ${name} is no longer a dependency of imageprompt; update the command's unbundled packages`);
  }
  const result = await build({
    ...common,
    entryPoints: [join(cli, 'main.js')],
    outfile: join(cli, 'imageprompt.js'),
    external: unbundled.flatMap((name) => [name, `${name}/*`]),
    // CommonJS dependencies (fast-glob) require Node's built-in modules: give the bundle a require
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
    metafile: true,
  });
  // one notice per bundled package: its name, version and licence text
  const roots = new Map();
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match && !roots.has(match[1])) roots.set(match[1], input.slice(0, match.index + match[0].length));
  }
  const notices = [];
  for (const [name, root] of [...roots].sort(([a], [b]) => a.localeCompare(b))) {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    const licence = await licenceText(root);
    if (!licence) throw new Error(`bundle: ${name} has no licence file to ship with the command's bundle`);
    notices.push(`## ${name} ${manifest.version} (${manifest.license})\n\n${licence.trim()}\n`);
  }
  await writeFile(join(cli, 'imageprompt.js.LICENSES.md'), `# Licences of the packages bundled into imageprompt.js\n\n${notices.join('\n')}`);
}

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
