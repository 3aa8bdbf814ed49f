import type { Plugin } from 'vite';
import { unplugin, type Options } from './index.js';

/** `plugins: [imageprompt(options)]` in `vite.config.*`. */
const imageprompt: (options?: Options) => Plugin = unplugin.vite;
export default imageprompt;
