import { unplugin } from './index.js';

/** `plugins: [imageprompt(options)]` in the rspack configuration. */
export default unplugin.rspack;
