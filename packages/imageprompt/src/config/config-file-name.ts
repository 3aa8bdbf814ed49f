/** The project's settings file, at the root: one name, known to every part that reads it. */
export const CONFIG_FILE_NAME = 'imageprompt.config.json';
