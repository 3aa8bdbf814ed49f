import type { JsPlugin } from '@farmfe/core';
import { unplugin, type Options } from './index.js';

/** `plugins: [imageprompt(options)]` in the Farm configuration (`farm.config.ts`). */
const imageprompt: (options?: Options) => JsPlugin = unplugin.farm;
export default imageprompt;
