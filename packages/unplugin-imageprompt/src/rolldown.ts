import type { Plugin } from 'rolldown';
import { unplugin, type Options } from './index.js';

/** `plugins: [imageprompt(options)]` in the Rolldown configuration. */
const imageprompt: (options?: Options) => Plugin = unplugin.rolldown;
export default imageprompt;
