import { unplugin } from './index.js';

/** `plugins: [imageprompt(options)]` in the rollup configuration. */
export default unplugin.rollup;
