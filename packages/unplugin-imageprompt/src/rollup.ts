import type { Plugin } from 'rollup';
import { unplugin, type Options } from './index.js';

/** `plugins: [imageprompt(options)]` in the Rollup configuration. */
const imageprompt: (options?: Options) => Plugin = unplugin.rollup;
export default imageprompt;
