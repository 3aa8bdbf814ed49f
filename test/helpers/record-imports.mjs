/**
 * `node --import` this file to record every module the process loads: each resolved URL is appended
 * to the file named by IMAGEPROMPT_TEST_IMPORTS. Tests use it to prove what a run did not load.
 */
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url, { data: { log: process.env.IMAGEPROMPT_TEST_IMPORTS } });
