import { unplugin } from './index.js';

/** `plugins: [imageprompt(options)]` in the rolldown configuration. */
export default unplugin.rolldown;
