import { defineConfig } from 'vite';
import imageprompt from 'unplugin-imageprompt/vite';

export default defineConfig({
  plugins: [imageprompt({ defaults: { model: 'z-image-turbo' } })],
});
