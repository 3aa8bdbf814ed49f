import { defineConfig } from 'astro/config';
import imageprompt from 'unplugin-imageprompt/astro';

export default defineConfig({
  integrations: [imageprompt({ defaults: { model: 'z-image-turbo' } })],
});
