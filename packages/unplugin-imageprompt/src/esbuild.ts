import type { Plugin } from 'esbuild';
import { unplugin, type Options } from './index.js';

/** `plugins: [imageprompt(options)]` in esbuild's build options. */
const imageprompt: (options?: Options) => Plugin = unplugin.esbuild;
export default imageprompt;
