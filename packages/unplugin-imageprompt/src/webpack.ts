import { unplugin } from './index.js';

/** `plugins: [imageprompt(options)]` in the webpack configuration. */
export default unplugin.webpack;
