import { unplugin } from './index.js';

/** `plugins: [imageprompt(options)]` in the esbuild configuration. */
export default unplugin.esbuild;
