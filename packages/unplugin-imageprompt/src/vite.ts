import { unplugin } from './index.js';

/** `plugins: [imageprompt(options)]` in `vite.config.*`. */
export default unplugin.vite;
