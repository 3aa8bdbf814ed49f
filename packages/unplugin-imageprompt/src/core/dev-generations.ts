/**
 * Dev servers never wait for Venice: a miss is shown as a placeholder at once while the image is
 * generated in the background (see `ImagePromptEngine.loadWithoutWaiting`). When it lands, the
 * prompt module is invalidated in every environment that holds it and reloaded by Vite's own rules
 * (an HMR update where a boundary accepts it, a full reload otherwise; a page rendered on the
 * server, as in Astro, is reloaded). A failure goes to Vite's error overlay with the terminal's text
 * and the placeholder stays. An image that lands after its prompt file was edited again is in the
 * cache (it was paid for) but is not shown: only the request the file asks for now is.
 */
import type { ImageResult } from 'imageprompt';
import type { ViteDevServer } from 'vite';
import type { HookContext } from './emit/asset-emitter.js';
import type { BackgroundGenerations } from './load-prompt-module.js';
import type { ModuleIds } from './module-id.js';

export class DevGenerations implements BackgroundGenerations {
  /** The request key each prompt file was last loaded with. */
  private current = new Map<string, string>();
  /** Prompt files whose generated image landed since their module was last loaded. */
  private landed = new Set<string>();
  /** The failure of each prompt file's current request, shown again to every page that connects. */
  private failures = new Map<string, { key: string; message: string }>();
  private server: ViteDevServer | undefined;
  /**
   * Full reloads sent for pages rendered on the server since a page last connected. A page that was
   * itself reloading when one was sent never got it; the page that connects next is reloaded once
   * more, so that no landed image stays a placeholder on screen.
   */
  private reloadsSinceConnection = 0;

  constructor(
    private readonly ids: ModuleIds,
    /** Told when an image lands or fails (the live review page shows it). */
    private readonly onSettled: (file: string) => void = () => {},
  ) {}

  attach(server: ViteDevServer): void {
    this.server = server;
    // another image landing reloads the page, which clears the overlay: a page that (re)connects
    // is shown the failures that still stand
    server.ws.on('connection', () => {
      for (const [file, failure] of this.failures) if (this.current.get(file) === failure.key) this.sendError(file, failure.message);
      if (this.reloadsSinceConnection > 0) {
        this.reloadsSinceConnection = 0;
        server.environments?.client?.hot.send({ type: 'full-reload', path: '*' });
      }
    });
  }

  /** Records what a load handed out; a pending generation is followed until it lands or fails. */
  loaded(_hook: HookContext, file: string, { key }: ImageResult, generated?: Promise<ImageResult>): void {
    this.current.set(file, key);
    generated?.then(
      () => {
        // still the load that handed out the placeholder (a chain's final key differs from its head's)
        if (this.current.get(file) !== key) return;
        this.onSettled(file);
        this.landed.add(file);
        void this.reload(file);
      },
      (error: unknown) => {
        if (this.current.get(file) !== key) return;
        this.onSettled(file);
        const message = error instanceof Error ? error.message : String(error);
        this.failures.set(file, { key, message });
        this.sendError(file, message);
      },
    );
  }

  /** True once after a generated image landed for the file: its next module says so in the console. */
  takeLanded(file: string): boolean {
    return this.landed.delete(file);
  }

  private async reload(file: string): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const id of this.ids.idsOf(file)) await this.reloadModule(id, file, 0);
  }

  /** Reloads the module `id` of a prompt file wherever Vite has it. */
  private async reloadModule(id: string, file: string, attempt: number): Promise<void> {
    const server = this.server!;
    // Vite enters a module in its graph only after the load hook returned: an image that landed in
    // between finds no module yet, so look again shortly
    const retry = () => attempt < 5 && setTimeout(() => void this.reloadModule(id, file, attempt + 1), 100);
    const environments = Object.values(server.environments ?? {});
    if (environments.length === 0) {
      // Vite 5: one module graph
      const module = server.moduleGraph.getModuleById(id);
      if (module) await server.reloadModule(module);
      else retry();
      return;
    }
    let inClient = false;
    let elsewhere = false;
    for (const environment of environments) {
      const module = environment.moduleGraph.getModuleById(id);
      if (!module) continue;
      environment.moduleGraph.invalidateModule(module);
      await environment.reloadModule(module);
      if (environment.name === 'client') inClient = true;
      else elsewhere = true;
    }
    // rendered on the server only (an Astro page): the browser shows it again by reloading
    if (elsewhere && !inClient) {
      this.reloadsSinceConnection += 1;
      server.environments.client?.hot.send({ type: 'full-reload', path: '*' });
    }
    if (!inClient && !elsewhere) retry();
  }

  private sendError(file: string, message: string): void {
    const err = { message, stack: '', id: file, plugin: 'unplugin-imageprompt' };
    const hot = this.server?.environments?.client?.hot ?? this.server?.ws;
    hot?.send({ type: 'error', err });
  }
}
