/** Where the engine reports progress; the plugin and the CLI each supply their own. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: Logger = {
  info: (message) => console.log(`[imageprompt] ${message}`),
  warn: (message) => console.warn(`[imageprompt] warning: ${message}`),
  error: (message) => console.error(`[imageprompt] ${message}`),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
