export declare const NGINX: string;
export declare const hasNginx: boolean;
export declare function startNginxDav(): Promise<{ url: string; dir: string; close(): Promise<void> }>;
