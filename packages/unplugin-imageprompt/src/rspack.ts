import type { RspackPluginInstance } from '@rspack/core';
import { unplugin, type Options } from './index.js';

/** `plugins: [imageprompt(options)]` in the Rspack configuration. */
const imageprompt: (options?: Options) => RspackPluginInstance = unplugin.rspack;
export default imageprompt;
