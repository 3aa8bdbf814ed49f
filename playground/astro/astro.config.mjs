import { defineConfig } from 'astro/config';
import imageprompt from 'unplugin-imageprompt/astro';

export default defineConfig({
  // project-wide defaults live in imageprompt.config.json, shared with the imageprompt command
  integrations: [imageprompt()],
});
