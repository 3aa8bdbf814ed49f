import type { WebpackPluginInstance } from 'webpack';
import { unplugin, type Options } from './index.js';

/** `plugins: [imageprompt(options)]` in the webpack configuration (Next.js: see the README). */
const imageprompt: (options?: Options) => WebpackPluginInstance = unplugin.webpack;
export default imageprompt;
