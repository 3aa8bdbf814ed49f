import { defineConfig } from 'vite';
import imageprompt from 'unplugin-imageprompt/vite';

export default defineConfig({
  // project-wide defaults live in imageprompt.config.json, shared with the imageprompt command
  plugins: [imageprompt()],
});
